//! Criterion benchmarks of the engine (issue 7, "Performance").
//!
//! Run: `cargo bench -p jiuzhu-core --bench evaluate` (about a minute and a half).
//! The configuration is short on purpose (20 samples, 3 s each): these figures are for
//! spotting regressions and comparing with docs/performance.md, not for publication.
//!
//! * `read/*`      JSON text → validated `Household` (`Engine::read_str`: the fast reader)
//! * `read_full/*` the same through the full path (`parse_household_text` +
//!   `Engine::read_full`, what a household with an error goes through)
//! * `read_value/*` a parsed `serde_json::Value` → `Household` (`Engine::read`: the value
//!   written as text for the fast reader), against `read_value_full/*` (`read_full`)
//! * `evaluate/*`  JSON text → assessment JSON text (`evaluate_str` + `to_json`: through
//!   the `Assessment` value a Rust caller gets)
//! * `evaluate_json/*` the same text from the same text, written from the decision
//!   directly (`evaluate_json`: what `batch` and the wasm package's `evaluateJson` do)
//! * `many/*`      1,000 synthetic households (`synth`, seed 42) through `evaluate_many`,
//!   JSON text in, assessments out, with 1 and 2 threads
//! * `program/*`   each program's share of `evaluate_household` on 200 synthetic
//!   households (validated beforehand): `program/none` has every script replaced by a
//!   stub, `program/subsistence` keeps subsistence only (every other program reads its
//!   result), `program/<id>` keeps subsistence and `<id>`. A program's own cost is its
//!   figure minus `program/subsistence` (subsistence's: minus `program/none`);
//!   `program/all` is the whole assessment.
//! * `to_json/*`   writing out the 1,000 assessments of `many` once evaluated: through
//!   `serde_json::to_string` (what `to_json` was), `Assessment::to_json`, and
//!   `Assessment::write_json` into one buffer kept from one to the next (what `batch` does)

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use jiuzhu_core::{household, parse_date, Engine, Options};
use std::hint::black_box;
use std::time::Duration;

const EXAMPLES: &[(&str, &str)] = &[
    ("household", include_str!("../../examples/household.json")),
    ("students", include_str!("../../examples/students.json")),
];

fn opts() -> Options {
    Options { default_as_of: parse_date("2025-03-01"), ..Options::default() }
}

/// `n` synthetic households (seed 42, as_of 2025-03-01) as JSON lines.
fn population(engine: &Engine, n: usize) -> Vec<String> {
    let date = parse_date("2025-03-01").expect("a date");
    jiuzhu_core::synth::synth(engine, n, 42, None, date).expect("synth").collect()
}

fn bench_one(c: &mut Criterion) {
    let engine = Engine::new().expect("the embedded pack loads");
    let opts = opts();
    let mut g = c.benchmark_group("read");
    for (name, text) in EXAMPLES {
        g.bench_with_input(BenchmarkId::from_parameter(name), text, |b, text| {
            b.iter(|| engine.read_str(black_box(text), &opts).expect("valid"))
        });
    }
    g.finish();
    // The full path alone (what `read` measured before the fast reader): JSON value,
    // then validation with every error and its path.
    let mut g = c.benchmark_group("read_full");
    for (name, text) in EXAMPLES {
        g.bench_with_input(BenchmarkId::from_parameter(name), text, |b, text| {
            b.iter(|| {
                let v = household::parse_household_text(black_box(text)).expect("valid");
                engine.read_full(&v, &opts).expect("valid")
            })
        });
    }
    g.finish();
    // A value already parsed (what a Rust caller with serde_json holds): `read` against
    // the full reader alone.
    for (group, full) in [("read_value", false), ("read_value_full", true)] {
        let mut g = c.benchmark_group(group);
        for (name, text) in EXAMPLES {
            let v = household::parse_household_text(text).expect("valid");
            g.bench_with_input(BenchmarkId::from_parameter(name), &v, |b, v| {
                b.iter(|| if full { engine.read_full(black_box(v), &opts) } else { engine.read(black_box(v), &opts) }.expect("valid"))
            });
        }
        g.finish();
    }
    let mut g = c.benchmark_group("evaluate");
    for (name, text) in EXAMPLES {
        g.bench_with_input(BenchmarkId::from_parameter(name), text, |b, text| {
            b.iter(|| engine.evaluate_str(black_box(text), &opts).expect("evaluates").to_json())
        });
    }
    g.finish();
    // The same text out, written from the decision directly (no `Assessment` between):
    // what `jiuzhu batch` and the wasm package's `evaluateJson` do.
    let mut g = c.benchmark_group("evaluate_json");
    for (name, text) in EXAMPLES {
        g.bench_with_input(BenchmarkId::from_parameter(name), text, |b, text| {
            b.iter(|| engine.evaluate_json(black_box(*text), &opts).expect("evaluates"))
        });
    }
    g.finish();
}

fn bench_many(c: &mut Criterion) {
    let engine = Engine::new().expect("the embedded pack loads");
    let opts = opts();
    let lines = population(&engine, 1000);
    let mut g = c.benchmark_group("many");
    g.throughput(Throughput::Elements(lines.len() as u64));
    for threads in [1usize, 2] {
        g.bench_with_input(BenchmarkId::new("synth1000_threads", threads), &threads, |b, &t| {
            b.iter(|| {
                let out = engine.evaluate_many(black_box(&lines), &opts, Some(t));
                out.into_iter().map(|r| r.expect("evaluates").to_json().len()).sum::<usize>()
            })
        });
    }
    g.finish();
}

/// What a stubbed program returns (valid, cheap).
const STUB: &str = r#"#{ status: "ineligible", amount: 0, period: "monthly", reasons: [reason("STU_NO_STUDENT")] }"#;

fn bench_programs(c: &mut Criterion) {
    let full = Engine::new().expect("the embedded pack loads");
    let opts = opts();
    let households: Vec<jiuzhu_core::Household> = population(&full, 200).iter().map(|t| full.read_str(t, &opts).expect("valid")).collect();
    let ids: Vec<String> = full.program_ids().iter().map(|s| s.to_string()).collect();
    let keeping = |keep: &[&str]| -> Engine {
        let mut files = jiuzhu_core::PackFiles::embedded();
        for id in &ids {
            if !keep.contains(&id.as_str()) {
                files.files.insert(format!("programs/{id}.rhai"), STUB.to_string());
            }
        }
        Engine::from_files(files).expect("the stubbed pack loads")
    };
    let mut cases: Vec<(String, Engine)> = vec![("none".into(), keeping(&[])), ("subsistence".into(), keeping(&["subsistence"]))];
    for id in ids.iter().filter(|id| *id != "subsistence") {
        cases.push((id.clone(), keeping(&["subsistence", id.as_str()])));
    }
    cases.push(("all".into(), full.clone()));
    let mut g = c.benchmark_group("program");
    g.throughput(Throughput::Elements(households.len() as u64));
    for (name, engine) in &cases {
        g.bench_with_input(BenchmarkId::from_parameter(name), engine, |b, engine| {
            b.iter(|| households.iter().map(|h| engine.evaluate_household(black_box(h), &opts).expect("evaluates").programs.len()).sum::<usize>())
        });
    }
    g.finish();
}

fn bench_to_json(c: &mut Criterion) {
    let engine = Engine::new().expect("the embedded pack loads");
    let opts = opts();
    let assessments: Vec<jiuzhu_core::Assessment> = population(&engine, 1000).iter().map(|l| engine.evaluate_str(l, &opts).expect("evaluates")).collect();
    let mut g = c.benchmark_group("to_json");
    g.throughput(Throughput::Elements(assessments.len() as u64));
    g.bench_function("synth1000_serde_to_string", |b| {
        b.iter(|| assessments.iter().map(|a| serde_json::to_string(black_box(a)).unwrap().len()).sum::<usize>())
    });
    g.bench_function("synth1000_to_json", |b| {
        b.iter(|| assessments.iter().map(|a| black_box(a).to_json().len()).sum::<usize>())
    });
    g.bench_function("synth1000_write_json", |b| {
        let mut buf = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for a in &assessments {
                buf.clear();
                black_box(a).write_json(&mut buf);
                n += buf.len();
            }
            n
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
}

criterion_group! { name = benches; config = config(); targets = bench_one, bench_many, bench_programs, bench_to_json }
criterion_main!(benches);
