//! Population work through the core API: `batch` (streaming, parallel, error records),
//! `compare` (baseline vs reform) and `synth` (the synthetic population).

use jiuzhu_core::batch::{batch_stream, BatchSummary};
use jiuzhu_core::compare::{compare, compare_lines};
use jiuzhu_core::money::format2;
use jiuzhu_core::synth::synth;
use jiuzhu_core::{parse_date, Date, Decimal, Engine, Options};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::str::FromStr;

fn engine() -> Engine {
    Engine::new().expect("the embedded pack loads")
}

fn day(s: &str) -> Date {
    parse_date(s).expect("a date")
}

fn opts() -> Options {
    Options {
        as_of: None,
        default_as_of: Some(day("2025-03-01")),
        lang: Some("zh".into()),
        trace: false,
        messages: true,
    }
}

fn population(engine: &Engine, n: usize, seed: u64) -> Vec<String> {
    synth(engine, n, seed, None, day("2025-03-01"))
        .expect("synth")
        .collect()
}

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().expect("a decimal string")).expect("a decimal")
}

/// A corrupted line, what its error record must say.
struct Bad {
    /// 0-based index in the input.
    at: usize,
    text: String,
    id: Option<String>,
    path: &'static str,
    message: &'static str,
}

/// `lines` with corrupted lines put in: bad JSON, an unknown field, a negative amount,
/// an empty line, a blank line, a JSON array, an unknown region.
fn corrupt(lines: &[String]) -> (Vec<String>, Vec<Bad>) {
    let edit = |i: usize, f: &dyn Fn(&mut Value)| -> (String, String) {
        let mut v: Value = serde_json::from_str(&lines[i]).expect("synth writes JSON");
        f(&mut v);
        (
            v["id"].as_str().unwrap_or_default().to_string(),
            v.to_string(),
        )
    };
    let (id1, unknown_field) = edit(40, &|v| {
        v["members"][0]["disabilty_grade"] = json!(2);
    });
    let (id2, negative) = edit(90, &|v| {
        v["members"][0]["incomes"] = json!([{"kind": "wage", "monthly": "-5"}]);
    });
    let (id3, region) = edit(150, &|v| {
        v["region"] = json!("120000");
    });
    let bads = vec![
        Bad {
            at: 4,
            text: "{\"id\": \"HH-broken\", \"region\": ".into(),
            id: None,
            path: "",
            message: "not valid JSON",
        },
        Bad {
            at: 41,
            text: unknown_field,
            id: Some(id1),
            path: "members[0].disabilty_grade",
            message: "unknown field (did you mean `disability_grade`?)",
        },
        Bad {
            at: 91,
            text: negative,
            id: Some(id2),
            path: "members[0].incomes[0].monthly",
            message: "negative amount",
        },
        Bad {
            at: 120,
            text: String::new(),
            id: None,
            path: "",
            message: "empty input",
        },
        Bad {
            at: 121,
            text: "   \t".into(),
            id: None,
            path: "",
            message: "empty input",
        },
        Bad {
            at: 160,
            text: "[1, 2, 3]".into(),
            id: None,
            path: "",
            message: "expected an object",
        },
        Bad {
            at: 200,
            text: region,
            id: Some(id3),
            path: "region",
            message: "region 120000 is not covered",
        },
    ];
    let mut out: Vec<String> = lines.to_vec();
    for b in &bads {
        out.insert(b.at, b.text.clone());
    }
    (out, bads)
}

fn run_batch(engine: &Engine, input: &str, threads: Option<usize>) -> (String, BatchSummary) {
    let mut out = Vec::new();
    let mut calls = 0;
    let summary = batch_stream(engine, input.as_bytes(), &mut out, &opts(), threads, |_| {
        calls += 1
    })
    .expect("in-memory I/O");
    assert!(calls >= 1, "progress is reported");
    (String::from_utf8(out).expect("UTF-8 output"), summary)
}

#[test]
fn batch_writes_one_line_per_input_line_with_error_records_in_place() {
    let engine = engine();
    let (lines, bads) = corrupt(&population(&engine, 300, 42));
    let input = lines.join("\n") + "\n";
    let (output, summary) = run_batch(&engine, &input, None);
    let out: Vec<&str> = output.lines().collect();
    assert_eq!(
        out.len(),
        lines.len(),
        "exactly one output line per input line"
    );
    assert_eq!(lines.len(), 307);

    let bad_at: BTreeMap<usize, &Bad> = bads.iter().map(|b| (b.at, b)).collect();
    for (i, (line, got)) in lines.iter().zip(&out).enumerate() {
        match bad_at.get(&i) {
            Some(b) => {
                let rec: Value = serde_json::from_str(got).expect("an error record is JSON");
                assert_eq!(rec["line"], json!(i + 1), "line number of {got}");
                assert_eq!(
                    rec["id"],
                    b.id.as_ref().map_or(Value::Null, |id| json!(id)),
                    "id in {got}"
                );
                let errors = rec["errors"].as_array().expect("errors");
                assert!(
                    errors.iter().any(|e| e["path"] == json!(b.path)
                        && e["message"]
                            .as_str()
                            .unwrap_or_default()
                            .contains(b.message)),
                    "line {}: expected {:?}: {:?} in {got}",
                    i + 1,
                    b.path,
                    b.message
                );
                assert_eq!(
                    rec.as_object().map(|o| o.len()),
                    Some(3),
                    "only line, id, errors"
                );
            }
            None => {
                let expected = engine
                    .evaluate_str(line, &opts())
                    .expect("a synthetic household evaluates")
                    .to_json();
                assert_eq!(*got, expected, "line {} is what evaluate gives", i + 1);
            }
        }
    }

    assert_eq!(summary.records, 307);
    assert_eq!(summary.errors, bads.len() as u64);
    assert_eq!(summary.assessed, 300);
    // The summary's figures are the sums of the lines.
    let assessments: Vec<Value> = out
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("programs").is_some())
        .collect();
    for (program, s) in &summary.programs {
        let eligible: Vec<&Value> = assessments
            .iter()
            .map(|a| &a["programs"][program])
            .filter(|p| p["status"] == "eligible")
            .collect();
        assert_eq!(s.recipients, eligible.len() as u64, "{program} recipients");
        let sum: Decimal = eligible.iter().map(|p| dec(&p["amount"])).sum();
        let period = eligible
            .first()
            .map(|p| p["period"].as_str().unwrap().to_string());
        if let Some(period) = period {
            assert_eq!(s.amounts[&period].0, sum, "{program} amount");
        }
        assert!(
            s.recipients > 0,
            "{program} has recipients in a population of 300"
        );
    }
    let monthly: Decimal = assessments
        .iter()
        .map(|a| dec(&a["totals"]["monthly"]))
        .sum();
    assert_eq!(summary.totals.monthly.0, monthly);
    assert!(monthly > Decimal::ZERO);
}

#[test]
fn batch_output_does_not_depend_on_threads_or_line_endings() {
    let engine = engine();
    let (lines, _) = corrupt(&population(&engine, 220, 5));
    let lf = lines.join("\n");
    let (one, s1) = run_batch(&engine, &lf, Some(1));
    let (three, s3) = run_batch(&engine, &lf, Some(3));
    let (all, _) = run_batch(&engine, &(lines.join("\r\n") + "\r\n"), None);
    assert_eq!(one, three);
    assert_eq!(one, all);
    assert_eq!(s1, s3);
    // evaluate_many gives the same assessments.
    let results = engine.evaluate_many(&lines, &opts(), None);
    let many: Vec<String> = results
        .iter()
        .map(|r| r.as_ref().map(|a| a.to_json()).unwrap_or_default())
        .collect();
    for (got, line) in many.iter().zip(one.lines()) {
        if !got.is_empty() {
            assert_eq!(got, line);
        }
    }
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 7);
    // Parsed values too.
    let values: Vec<Value> = lines
        .iter()
        .filter_map(|l| jiuzhu_core::household::parse_household_text(l).ok())
        .collect();
    let from_values = engine.evaluate_many(&values, &opts(), Some(2));
    assert_eq!(from_values.iter().filter(|r| r.is_ok()).count(), 220);
}

#[test]
fn compare_without_a_reform_reports_no_change() {
    let engine = engine();
    let (lines, bads) = corrupt(&population(&engine, 250, 9));
    let reform = engine
        .with_parameters(Vec::<&str>::new())
        .expect("no overrides");
    let c = compare(&engine, &reform, &lines, &opts());
    assert_eq!(c.households, 250);
    assert_eq!(c.errors, bads.len() as u64);
    assert!(c.no_change());
    assert!(c.top_changes.is_empty());
    assert_eq!(
        c.programs.keys().collect::<Vec<_>>(),
        [
            "subsistence",
            "temporary",
            "medical",
            "student",
            "employment"
        ]
    );
    for (id, p) in &c.programs {
        assert_eq!((p.gainers, p.losers, p.unchanged), (0, 0, 250), "{id}");
        assert_eq!(p.recipients.baseline, p.recipients.reform, "{id}");
        assert_eq!(p.cost.baseline, p.cost.reform, "{id}");
    }
    assert!(c.programs["subsistence"].recipients.baseline > 0);
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["programs"]["subsistence"]["gainers"], json!(0));
    assert_eq!(v["top_changes"], json!([]));
}

/// What compare must say, computed from two batch outputs independently of `compare`.
fn expected_comparison(baseline_out: &str, reform_out: &str) -> Value {
    let programs = [
        "subsistence",
        "temporary",
        "medical",
        "student",
        "employment",
    ];
    let mut rows: BTreeMap<&str, [i64; 5]> = BTreeMap::new();
    let mut cost: BTreeMap<&str, [Decimal; 2]> = BTreeMap::new();
    let mut changes: Vec<(Decimal, usize, usize, Value)> = Vec::new();
    let (mut households, mut errors) = (0, 0);
    for (i, (b, r)) in baseline_out.lines().zip(reform_out.lines()).enumerate() {
        let (b, r): (Value, Value) = (
            serde_json::from_str(b).unwrap(),
            serde_json::from_str(r).unwrap(),
        );
        if b.get("errors").is_some() || r.get("errors").is_some() {
            errors += 1;
            continue;
        }
        households += 1;
        for (j, p) in programs.iter().enumerate() {
            let pay = |a: &Value| {
                if a["programs"][p]["status"] == "eligible" {
                    dec(&a["programs"][p]["amount"])
                } else {
                    Decimal::ZERO
                }
            };
            let (pb, pr) = (pay(&b), pay(&r));
            let row = rows.entry(p).or_default();
            row[0] += i64::from(b["programs"][p]["status"] == "eligible");
            row[1] += i64::from(r["programs"][p]["status"] == "eligible");
            row[2] += i64::from(pr > pb);
            row[3] += i64::from(pr < pb);
            row[4] += i64::from(pr == pb);
            let c = cost.entry(p).or_insert([Decimal::ZERO; 2]);
            c[0] += pb;
            c[1] += pr;
            if pr != pb {
                let change = json!({"household_id": b["household_id"], "program": p, "baseline": format2(pb), "reform": format2(pr), "change": format2(pr - pb)});
                changes.push(((pr - pb).abs(), i, j, change));
            }
        }
    }
    changes.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut out = serde_json::Map::new();
    for p in programs {
        let (r, c) = (rows[p], cost[p]);
        out.insert(
            p.to_string(),
            json!({"recipients": {"baseline": r[0], "reform": r[1]}, "cost": {"baseline": format2(c[0]), "reform": format2(c[1])},
                   "gainers": r[2], "losers": r[3], "unchanged": r[4]}),
        );
    }
    json!({"households": households, "errors": errors, "programs": out,
           "top_changes": changes.into_iter().take(10).map(|c| c.3).collect::<Vec<_>>()})
}

#[test]
fn compare_equals_two_batch_runs() {
    let engine = engine();
    let (lines, bads) = corrupt(&population(&engine, 300, 42));
    let input = lines.join("\n");
    for set in [
        vec!["subsistence.standard=1500"],
        vec![
            "110000:subsistence.standard=1600",
            "temporary.emergency_months=4",
        ],
    ] {
        let reform = engine
            .with_parameters(set.iter().copied())
            .expect("valid overrides");
        let (b_out, _) = run_batch(&engine, &input, None);
        let (r_out, _) = run_batch(&reform, &input, None);
        let expected = expected_comparison(&b_out, &r_out);
        let c = compare(&engine, &reform, lines.iter().map(String::as_str), &opts());
        assert_eq!(serde_json::to_value(&c).unwrap(), expected, "{set:?}");
        assert_eq!(c.errors, bads.len() as u64);
        // Streaming the same lines gives the same comparison, on any number of threads
        // (over 300 lines: two pieces of the pipeline), with progress in input order.
        for threads in [Some(1), Some(2), Some(3)] {
            let mut seen = Vec::new();
            let mut error_lines = Vec::new();
            let streamed = compare_lines(&engine, &reform, input.as_bytes(), &opts(), threads, |p| {
                seen.push(p.lines);
                error_lines.extend(p.chunk_errors.iter().map(|e| e.line));
            })
            .unwrap();
            assert_eq!(streamed, c, "{threads:?}");
            assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
            assert_eq!(seen.last(), Some(&(lines.len() as u64)));
            assert_eq!(error_lines.len(), bads.len(), "{threads:?}");
            assert!(error_lines.windows(2).all(|w| w[0] < w[1]), "{error_lines:?}");
        }

        let sub = &c.programs["subsistence"];
        assert!(
            sub.gainers > 0,
            "{set:?}: a higher standard pays more to someone"
        );
        assert_eq!(c.top_changes.len(), 10);
        assert!(c
            .top_changes
            .windows(2)
            .all(|w| w[0].change.0.abs() >= w[1].change.0.abs()));
        if set.len() == 1 {
            // 1500 is above the standard of every example region but Shanghai (1510).
            assert!(sub.losers > 0 && sub.gainers > sub.losers);
            assert!(sub.recipients.reform > sub.recipients.baseline);
            assert!(sub.cost.reform.0 > sub.cost.baseline.0);
        } else {
            // Only Beijing households' subsistence changes.
            let beijing: HashSet<String> = b_out
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|a| a["region"].as_str().is_some_and(|r| r.starts_with("11")))
                .filter_map(|a| a["household_id"].as_str().map(str::to_string))
                .collect();
            assert!(c
                .top_changes
                .iter()
                .filter(|t| t.program == "subsistence")
                .all(|t| beijing.contains(&t.household_id)));
            assert!(
                c.programs["temporary"].gainers > 0,
                "more months of S in emergency aid"
            );
        }
    }
}

/// The embedded pack with a file edited.
fn edited_pack(file: &str, edit: impl Fn(&str) -> String) -> Engine {
    let mut files = jiuzhu_core::PackFiles::embedded();
    let text = files.files.get(file).expect("file in the pack").clone();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit changed {file}");
    files.files.insert(file.to_string(), edited);
    Engine::from_files(files).expect("the edited pack loads")
}

#[test]
fn a_household_failing_only_under_the_reform_counts_as_an_error() {
    let engine = engine();
    let lines = population(&engine, 80, 3);
    // A reform pack without Guangzhou's standard: its households fail under the reform only.
    let reform = edited_pack("parameters/subsistence.toml", |t| {
        let mut out = Vec::new();
        let mut skipping = false;
        for l in t.lines() {
            // The only Guangzhou block of the file: its `subsistence.standard` values.
            if l.starts_with("\"440100\" = [") {
                skipping = true;
            }
            if !skipping {
                out.push(l);
            }
            if skipping && l.trim() == "]" {
                skipping = false;
            }
        }
        out.join("\n")
    });
    let guangzhou = lines
        .iter()
        .filter(|l| l.contains("\"region\":\"4401"))
        .count() as u64;
    assert!(guangzhou > 0);
    let c = compare(&engine, &reform, &lines, &opts());
    assert_eq!(c.errors, guangzhou);
    assert_eq!(c.households, 80 - guangzhou);
    assert!(c.no_change(), "the other households are unchanged");
    assert_eq!(c.programs["subsistence"].unchanged, 80 - guangzhou);
    let mut records = Vec::new();
    let streamed = compare_lines(
        &engine,
        &reform,
        lines.join("\n").as_bytes(),
        &opts(),
        None,
        |p| records.extend_from_slice(p.chunk_errors),
    )
    .unwrap();
    assert_eq!(streamed, c);
    assert_eq!(records.len() as u64, guangzhou);
    for r in &records {
        assert!(r.id.as_deref().is_some_and(|id| id.starts_with("SYN-3-")));
        assert!(
            r.errors[0]
                .message
                .starts_with("under the reform: region 4401"),
            "{:?}",
            r.errors
        );
        assert!(lines[r.line as usize - 1].contains("\"region\":\"4401"));
    }
}

#[test]
fn a_reform_pack_may_add_a_program() {
    let engine = engine();
    let lines = population(&engine, 50, 11);
    let mut files = jiuzhu_core::PackFiles::embedded();
    let manifest = files.files["pack.toml"].replace(
        "{ id = \"employment\", depends_on = [\"subsistence\"] },",
        "{ id = \"employment\", depends_on = [\"subsistence\"] },\n  { id = \"housing\" },",
    );
    files.files.insert("pack.toml".into(), manifest);
    files.files.insert(
        "programs/housing.rhai".into(),
        "#{ status: \"eligible\", amount: 100, period: \"monthly\", reasons: [reason(\"HOUSING_FLAT\")] }".into(),
    );
    let reform = Engine::from_files(files).expect("the pack with housing loads");
    let c = compare(&engine, &reform, &lines, &opts());
    assert_eq!(
        c.programs.keys().last().map(String::as_str),
        Some("housing")
    );
    let housing = &c.programs["housing"];
    assert_eq!(
        (housing.recipients.baseline, housing.recipients.reform),
        (0, 50)
    );
    assert_eq!(
        (housing.gainers, housing.losers, housing.unchanged),
        (50, 0, 0)
    );
    assert_eq!(format2(housing.cost.reform.0), "5000.00");
    assert_eq!(
        serde_json::to_value(housing).unwrap()["cost"],
        json!({"baseline": "0.00", "reform": "5000.00"})
    );
    // Ties (every change is +100.00) keep household order.
    assert_eq!(c.top_changes.len(), 10);
    let ids: Vec<&str> = c
        .top_changes
        .iter()
        .map(|t| t.household_id.as_str())
        .collect();
    assert_eq!(
        ids,
        (1..=10)
            .map(|i| format!("SYN-11-{i:07}"))
            .collect::<Vec<_>>()
    );
    assert!(c.programs["subsistence"].gainers == 0 && c.programs["subsistence"].losers == 0);
}

#[test]
fn synth_is_deterministic() {
    let engine = engine();
    let a = population(&engine, 200, 42).join("\n");
    let b = population(&engine, 200, 42).join("\n");
    let c = population(&engine, 200, 43).join("\n");
    assert_eq!(a, b, "same seed, same bytes");
    assert_ne!(a, c, "another seed, another population");
    // Household i depends on the seed and i only.
    let short = population(&engine, 50, 42);
    assert_eq!(short[..], population(&engine, 200, 42)[..50]);
    // Pinned bytes: the first 20 households of seed 42 (FNV-1a of the JSON lines, each
    // with its newline). A deliberate change of the generator updates this constant; an
    // accidental one (or a platform difference) fails here.
    let text: String = population(&engine, 20, 42)
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    let fnv = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    assert_eq!((fnv, text.len()), (0x6072_183e_0a45_a2c9, 32_118));
    let first: Value = serde_json::from_str(&short[0]).unwrap();
    assert_eq!(first["id"], json!("SYN-42-0000001"));
    assert_eq!(first["as_of"], json!("2025-03-01"));
    // One region when asked.
    let one: Vec<String> = synth(&engine, 40, 1, Some("410102"), day("2024-12-31"))
        .unwrap()
        .collect();
    assert!(one
        .iter()
        .all(|l| l.contains("\"region\":\"410102\"") && l.contains("\"as_of\":\"2024-12-31\"")));
    assert!(
        synth(&engine, 1, 1, Some("120000"), day("2025-03-01")).is_err(),
        "Tianjin is not in the pack"
    );
    assert!(synth(&engine, 1, 1, Some("11"), day("2025-03-01")).is_err());
    assert!(
        synth(&engine, 1, 1, None, day("2020-01-01")).is_err(),
        "no standard in force then"
    );
    assert_eq!(
        synth(&engine, 0, 1, None, day("2025-03-01"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn every_synthetic_household_validates() {
    let engine = engine();
    for (seed, as_of) in [(1, "2025-03-01"), (2, "2024-02-29"), (3, "2024-06-30")] {
        let date = day(as_of);
        for line in synth(&engine, 400, seed, None, date).unwrap() {
            let v: Value = serde_json::from_str(&line).unwrap();
            let h = engine
                .read(&v, &Options::default())
                .unwrap_or_else(|e| panic!("{e}\n{line}"));
            assert_eq!(h.as_of.map(|d| d.0), Some(date));
            assert_eq!(
                h.members
                    .iter()
                    .filter(|m| m.relation.as_str() == "head")
                    .count(),
                1
            );
            let ids: HashSet<&str> = h.members.iter().map(|m| m.id.as_str()).collect();
            assert_eq!(ids.len(), h.members.len());
            assert!((1..=6).contains(&h.members.len()));
            assert!(h.members.iter().all(|m| m.birth_date.0 <= date));
            assert!(h.events.iter().all(|e| e.date.0 <= date));
            // Money is written as decimal strings with two places.
            for m in &v["members"].as_array().unwrap()[..] {
                for i in m["incomes"].as_array().unwrap() {
                    let s = i["monthly"].as_str().unwrap();
                    assert!(s.split_once('.').is_some_and(|(_, c)| c.len() == 2), "{s}");
                }
            }
            engine
                .evaluate_value(&v, &Options::default())
                .unwrap_or_else(|e| panic!("{e}\n{line}"));
        }
    }
}

#[test]
fn the_population_mix_is_realistic() {
    let engine = engine();
    let lines = population(&engine, 600, 42);
    let values: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let assessments: Vec<Value> = engine
        .evaluate_many(&lines, &opts(), None)
        .into_iter()
        .map(|r| serde_json::from_str(&r.expect("evaluates").to_json()).unwrap())
        .collect();
    let n = assessments.len() as f64;
    let category = |a: &Value| {
        a["programs"]["subsistence"]["category"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let count = |f: &dyn Fn(&Value) -> bool| assessments.iter().filter(|a| f(a)).count();

    let assisted = count(&|a| matches!(category(a).as_str(), "dibao" | "tekun"));
    assert!(
        (0.10..=0.35).contains(&(assisted as f64 / n)),
        "dibao or tekun: {assisted} of {n}"
    );
    let marginal = count(&|a| category(a) == "marginal");
    assert!(
        (0.04..=0.25).contains(&(marginal as f64 / n)),
        "marginal: {marginal}"
    );
    for cat in [
        "tekun",
        "dibao",
        "phase_out",
        "single_member",
        "marginal",
        "none",
    ] {
        assert!(count(&|a| category(a) == cat) > 0, "category {cat} present");
    }

    // Income bands relative to S, read from the engine's own figures.
    let standard = |a: &Value| -> Decimal {
        let s = a["programs"]["subsistence"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|r| {
                r["values"]
                    .get("standard")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
        s.map(|s| Decimal::from_str(&s).unwrap())
            .unwrap_or_default()
    };
    let region_s = |region: &str, area: &str| -> Decimal {
        let s = match (&region[..2], area) {
            ("11", _) => "1450",
            ("31", _) => "1510",
            ("44", _) => "1300",
            (_, "urban") => "760",
            _ => "610",
        };
        Decimal::from_str(s).unwrap()
    };
    let mut below = 0;
    let mut band = 0;
    let mut at_s = 0;
    let mut at_line = 0;
    for (a, v) in assessments.iter().zip(&values) {
        let s = region_s(v["region"].as_str().unwrap(), v["area"].as_str().unwrap());
        let p = dec(&a["derived"]["per_capita_income"]);
        let line = s * Decimal::from_str("1.5").unwrap();
        below += usize::from(p < s);
        band += usize::from(p >= s && p < line);
        if p == s {
            at_s += 1;
            assert!(
                !matches!(category(a).as_str(), "dibao" | "tekun"),
                "p exactly at S is not below the line: {}",
                a["household_id"]
            );
        }
        if p == line {
            at_line += 1;
            assert_ne!(
                category(a),
                "marginal",
                "p exactly at 1.5 S is not marginal: {}",
                a["household_id"]
            );
        }
        let reported = standard(a);
        assert!(
            reported.is_zero() || reported == s,
            "S of {}: {reported} vs {s}",
            a["household_id"]
        );
    }
    assert!(
        (0.14..=0.27).contains(&(below as f64 / n)),
        "below S: {below}"
    );
    assert!(
        (0.11..=0.24).contains(&(band as f64 / n)),
        "marginal band: {band}"
    );
    assert!(
        at_s >= 3 && at_line >= 3,
        "exact boundaries: {at_s} at S, {at_line} at 1.5 S"
    );

    // Regions, areas, sizes, ages, disability, students.
    let regions: BTreeSet<&str> = values
        .iter()
        .map(|v| v["region"].as_str().unwrap())
        .collect();
    for r in ["110000", "110105", "310000", "440100", "410100", "410102"] {
        assert!(regions.contains(r), "region {r} present");
    }
    let areas: BTreeSet<&str> = values.iter().map(|v| v["area"].as_str().unwrap()).collect();
    assert_eq!(areas, BTreeSet::from(["rural", "urban"]));
    let sizes: BTreeSet<usize> = values
        .iter()
        .map(|v| v["members"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, (1..=6).collect());
    let members: Vec<&Value> = values
        .iter()
        .flat_map(|v| v["members"].as_array().unwrap())
        .collect();
    let ages: Vec<i64> = assessments
        .iter()
        .flat_map(|a| {
            a["derived"]["members"]
                .as_object()
                .unwrap()
                .values()
                .map(|m| m["age"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(ages.iter().min(), Some(&0));
    assert!(ages.iter().max().is_some_and(|&m| (90..=95).contains(&m)));
    let disabled = members
        .iter()
        .filter(|m| !m["disability_grade"].is_null())
        .count() as f64
        / members.len() as f64;
    assert!(
        (0.10..=0.20).contains(&disabled),
        "disabled share {disabled}"
    );
    let levels: BTreeSet<&str> = members
        .iter()
        .filter_map(|m| m["student"]["level"].as_str())
        .collect();
    assert_eq!(levels.len(), 9, "every student level: {levels:?}");
    assert!(members.iter().any(|m| !m["medical"].is_null()));

    // Edges: events at the 90-day window edge, cars, refusals at the limit, phase-out, review.
    let event_dates: Vec<&str> = values
        .iter()
        .flat_map(|v| v["events"].as_array().unwrap())
        .map(|e| e["date"].as_str().unwrap())
        .collect();
    assert!(
        event_dates.contains(&"2024-12-01"),
        "an event exactly 90 days before as_of"
    );
    assert!(
        event_dates.contains(&"2024-11-30"),
        "an event one day outside the window"
    );
    assert!(lines.iter().any(|l| l.contains("{\"kind\":\"car\"")));
    let codes: BTreeSet<&str> = assessments
        .iter()
        .flat_map(|a| a["programs"].as_object().unwrap().values())
        .flat_map(|p| p["reasons"].as_array().unwrap())
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    for code in [
        "SUB_ASSETS_OVER_LIMIT",
        "SUB_VEHICLE",
        "SUB_HOMES",
        "SUB_MEMBER_SANCTIONED",
        "SUB_PHASE_OUT",
        "SUB_NO_LOCAL_HUKOU",
        "TMP_EMERGENCY",
        "TMP_CASE_BY_CASE",
        "MED_AID",
        "STU_GRANT",
        "EMP_REFUSAL_SANCTION",
    ] {
        assert!(codes.contains(code), "{code} occurs");
    }
}

/// `decide_from`: threads sharing one cursor decide every household exactly once, and
/// each decision is the one `decide_many` gives at that position (errors included).
#[test]
fn threads_sharing_a_cursor_decide_each_household_once() {
    use std::sync::atomic::AtomicUsize;
    let engine = engine();
    let opts = opts();
    let mut lines = population(&engine, 150, 11);
    lines[3] = "{not json".into();
    lines[77] = r#"{"id": "X", "region": "990000"}"#.into();
    let render = |d: &jiuzhu_core::Result<jiuzhu_core::render::Decision<'_>>| match d {
        Ok(d) => {
            let mut out = Vec::new();
            d.write_json(&mut out);
            String::from_utf8(out).expect("UTF-8")
        }
        Err(e) => format!("error: {e}"),
    };
    let want: Vec<String> = engine.decide_many(&lines, &opts, Some(1)).iter().map(render).collect();
    let cursor = AtomicUsize::new(0);
    let parts: Vec<Vec<(usize, String)>> = std::thread::scope(|s| {
        let take = || engine.decide_from(&lines, &opts, &cursor).iter().map(|(i, d)| (*i, render(d))).collect::<Vec<_>>();
        let others: Vec<_> = (0..3).map(|_| s.spawn(take)).collect();
        let mut parts = vec![take()];
        parts.extend(others.into_iter().map(|h| h.join().expect("no panic")));
        parts
    });
    let mut got: Vec<Option<String>> = vec![None; lines.len()];
    for (i, text) in parts.into_iter().flatten() {
        assert!(got[i].replace(text).is_none(), "household {i} decided twice");
    }
    let got: Vec<String> = got.into_iter().map(|t| t.expect("every household decided")).collect();
    assert_eq!(got, want);
    assert!(want[3].starts_with("error") && want[77].starts_with("error"));
    // the cursor is spent: a late caller finds nothing left
    assert!(engine.decide_from(&lines, &opts, &cursor).is_empty());
}

/// `Decision::results` and `Decision::totals` (what a flat table reads, nothing
/// rendered) give the figures of the rendered assessment, program by program.
#[test]
fn a_decision_read_flat_has_the_assessments_figures() {
    let engine = engine();
    let opts = opts();
    let lines = population(&engine, 200, 5);
    let mut categories = HashSet::new();
    for (d, a) in engine.decide_many(&lines, &opts, Some(1)).into_iter().zip(engine.evaluate_many(&lines, &opts, Some(1))) {
        let (d, a) = (d.expect("decides"), a.expect("evaluates"));
        assert_eq!(d.household_id(), a.household_id);
        let flat: Vec<_> = d.results().map(|r| (r.id.to_string(), r.status, r.category.map(str::to_string), format2(r.amount.0))).collect();
        let rendered: Vec<_> = a.programs.iter().map(|(id, p)| (id.clone(), p.status, p.category.clone(), format2(p.amount.0))).collect();
        assert_eq!(flat, rendered);
        assert_eq!(engine.program_ids(), flat.iter().map(|(id, ..)| id.as_str()).collect::<Vec<_>>());
        let t = d.totals();
        assert_eq!([t.monthly, t.one_off, t.annual].map(|m| format2(m.0)), [a.totals.monthly, a.totals.one_off, a.totals.annual].map(|m| format2(m.0)));
        categories.extend(flat.iter().filter_map(|(_, _, c, _)| c.clone()));
    }
    // the population reaches categories other than "none"
    assert!(categories.len() >= 3, "{categories:?}");
}
