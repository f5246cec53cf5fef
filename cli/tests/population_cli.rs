//! `jiuzhu batch`, `compare` and `synth` end to end, through the binary.

use jiuzhu_core::money::format2;
use jiuzhu_core::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;

const JIUZHU: &str = env!("CARGO_BIN_EXE_jiuzhu");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(JIUZHU)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        let text = text.to_string();
        std::thread::spawn(move || {
            let _ = pipe.write_all(text.as_bytes());
        });
    }
    let out = child.wait_with_output().expect("the binary finishes");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("population_cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn synth(n: usize, seed: u64) -> String {
    let r = run(
        &["synth", &n.to_string(), "--seed", &seed.to_string()],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().expect("a decimal string")).expect("a decimal")
}

#[test]
fn synth_is_deterministic_and_writes_files() {
    let a = synth(120, 7);
    assert_eq!(a, synth(120, 7), "same seed, same bytes");
    assert_ne!(a, synth(120, 8));
    assert_eq!(a.lines().count(), 120);
    assert!(a.ends_with('\n'));
    // The default seed is 42 and the default date 2025-03-01.
    let d = run(&["synth", "5"], None).stdout;
    assert_eq!(
        d,
        run(
            &["synth", "5", "--seed", "42", "--as-of", "2025-03-01"],
            None
        )
        .stdout
    );
    assert!(d
        .lines()
        .all(|l| l.contains("\"as_of\":\"2025-03-01\"") && l.contains("\"id\":\"SYN-42-")));
    // -o FILE writes the same bytes; the core writes them too.
    let dir = scratch("synth");
    let file = dir.join("pop.jsonl");
    let r = run(&["synth", "120", "--seed", "7", "-o", path(&file)], None);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), a);
    // Written again, shorter: the file holds the new bytes only (src/output.rs replaces
    // a file of ours rather than truncating it) and keeps its permissions.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(0o600);
        std::fs::set_permissions(&file, mode).unwrap();
        let r = run(&["synth", "5", "-o", path(&file)], None);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), d);
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    let engine = jiuzhu_core::Engine::new().unwrap();
    let core: Vec<String> = jiuzhu_core::synth::synth(
        &engine,
        120,
        7,
        None,
        jiuzhu_core::parse_date("2025-03-01").unwrap(),
    )
    .unwrap()
    .collect();
    assert_eq!(core.join("\n") + "\n", a);
    // One region; bad usage.
    let r = run(
        &["synth", "30", "--region", "440106", "--as-of", "2024-08-15"],
        None,
    );
    assert_eq!(r.code, 0);
    assert!(r
        .stdout
        .lines()
        .all(|l| l.contains("\"region\":\"440106\"") && l.contains("\"as_of\":\"2024-08-15\"")));
    assert_eq!(run(&["synth", "3", "--region", "120000"], None).code, 2);
    assert_eq!(run(&["synth", "many"], None).code, 2);
    assert_eq!(run(&["synth", "3", "--as-of", "2025-02-30"], None).code, 2);
}

/// (index, expected id, expected path) of a corrupted line.
type Expected = (usize, Option<String>, &'static str);

/// Synthetic lines with bad ones put in, and what their error records must say.
fn corrupted(n: usize, seed: u64) -> (Vec<String>, Vec<Expected>) {
    let mut lines: Vec<String> = synth(n, seed).lines().map(str::to_string).collect();
    let mut v: Value = serde_json::from_str(&lines[10]).unwrap();
    v["members"][0]["incomes"] = json!([{"kind": "pension", "monthly": "-12.50"}]);
    let negative_id = v["id"].as_str().map(str::to_string);
    let negative = v.to_string();
    let mut v: Value = serde_json::from_str(&lines[20]).unwrap();
    v["assets"]["cars"] = json!(1);
    let unknown_id = v["id"].as_str().map(str::to_string);
    let unknown = v.to_string();
    let bad = vec![
        (0, None, "", "{\"id\": 1,"),
        (
            11,
            negative_id,
            "members[0].incomes[0].monthly",
            negative.as_str(),
        ),
        (21, unknown_id, "assets.cars", unknown.as_str()),
        (30, None, "", ""),
    ];
    let mut expect = Vec::new();
    for (at, id, p, text) in bad {
        lines.insert(at, text.to_string());
        expect.push((at, id, p));
    }
    (lines, expect)
}

#[test]
fn batch_matches_evaluate_line_by_line() {
    let dir = scratch("batch");
    let (lines, bad) = corrupted(40, 21);
    let input = dir.join("in.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let output = dir.join("out.jsonl");
    let r = run(
        &[
            "batch",
            path(&input),
            "-o",
            path(&output),
            "--threads",
            "2",
            "--lang",
            "en",
        ],
        None,
    );
    assert_eq!(r.code, 1, "some lines are errors: {}", r.stderr);
    assert!(
        r.stderr.contains("44 records, 40 assessed, 4 errors"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("subsistence") && r.stderr.contains("totals: monthly"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains('\u{1b}'),
        "no progress bar when stderr is not a terminal"
    );
    let out = std::fs::read_to_string(&output).unwrap();
    let out: Vec<&str> = out.lines().collect();
    assert_eq!(out.len(), lines.len());

    for (i, (line, got)) in lines.iter().zip(&out).enumerate() {
        if let Some((_, id, p)) = bad.iter().find(|b| b.0 == i) {
            let rec: Value = serde_json::from_str(got).unwrap();
            assert_eq!(rec["line"], json!(i + 1));
            assert_eq!(rec["id"], id.as_ref().map_or(Value::Null, |s| json!(s)));
            assert_eq!(rec["errors"][0]["path"], json!(p), "{got}");
            continue;
        }
        let one = run(&["evaluate", "-", "--lang", "en"], Some(line));
        assert_eq!(one.code, 0, "{}", one.stderr);
        assert_eq!(
            one.stdout,
            format!("{got}\n"),
            "line {} is byte for byte what evaluate prints",
            i + 1
        );
    }

    // Standard input to standard output, and --as-of applied like evaluate's.
    let clean: Vec<&String> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| !bad.iter().any(|b| b.0 == *i))
        .map(|(_, l)| l)
        .collect();
    let text = clean.iter().map(|l| format!("{l}\n")).collect::<String>();
    let r = run(
        &["batch", "-", "-o", "-", "--as-of", "2025-06-30"],
        Some(&text),
    );
    assert_eq!(r.code, 0, "every line evaluated: {}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 40);
    for (line, got) in clean.iter().zip(r.stdout.lines()).take(5) {
        let one = run(&["evaluate", "-", "--as-of", "2025-06-30"], Some(line));
        assert_eq!(one.stdout, format!("{got}\n"));
        assert!(got.contains("\"as_of\":\"2025-06-30\""));
    }
}

/// `--no-messages`: each line is the full one less every reason's `message`, the same
/// as `evaluate --no-messages`, and the summary is unchanged.
#[test]
fn batch_without_messages() {
    let text = synth(60, 5);
    let full = run(&["batch", "-", "-o", "-", "--threads", "2"], Some(&text));
    let bare = run(&["batch", "-", "-o", "-", "--threads", "2", "--no-messages"], Some(&text));
    assert_eq!((full.code, bare.code), (0, 0), "{}{}", full.stderr, bare.stderr);
    let summary = |s: &str| s.lines().skip(1).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(summary(&full.stderr), summary(&bare.stderr), "the same counts and totals");
    assert!(bare.stdout.len() < full.stdout.len() * 9 / 10, "{} vs {}", bare.stdout.len(), full.stdout.len());
    let mut reasons = 0;
    for ((f, b), line) in full.stdout.lines().zip(bare.stdout.lines()).zip(text.lines()) {
        let mut expected: Value = serde_json::from_str(f).unwrap();
        for p in expected["programs"].as_object_mut().unwrap().values_mut() {
            for r in p["reasons"].as_array_mut().unwrap() {
                assert!(r.as_object_mut().unwrap().remove("message").is_some());
                reasons += 1;
            }
        }
        let got: Value = serde_json::from_str(b).unwrap();
        assert_eq!(got, expected);
        assert!(!b.contains("\"message\""));
        let one = run(&["evaluate", "-", "--no-messages"], Some(line));
        assert_eq!(one.stdout, format!("{b}\n"));
    }
    assert!(reasons >= 60, "{reasons}");
    let summary_text = run(&["evaluate", "-", "--no-messages", "--format", "text", "--lang", "en"], Some(text.lines().next().unwrap()));
    assert_eq!(summary_text.code, 0, "{}", summary_text.stderr);
    assert!(summary_text.stdout.contains("  · ["), "{}", summary_text.stdout);
}

#[test]
fn batch_usage_errors_exit_2() {
    let dir = scratch("usage");
    let input = dir.join("in.jsonl");
    std::fs::write(&input, synth(3, 1)).unwrap();
    let missing = dir.join("missing.jsonl");
    assert_eq!(run(&["batch", path(&missing), "-o", "-"], None).code, 2);
    assert_eq!(
        run(&["batch", path(&input), "-o", "-", "--lang", "fr"], None).code,
        2
    );
    assert_eq!(
        run(&["batch", path(&input), "--threads", "many"], None).code,
        2
    );
    assert_eq!(
        run(
            &[
                "batch",
                path(&input),
                "-o",
                path(&dir.join("no/such/dir/out"))
            ],
            None
        )
        .code,
        2
    );
    assert_eq!(
        run(&["batch", path(&input), "-o", path(&input)], None).code,
        2,
        "the input is not overwritten"
    );
    assert_eq!(std::fs::read_to_string(&input).unwrap().lines().count(), 3);
    assert_eq!(
        run(&["batch", path(&input), "--rules", path(&missing)], None).code,
        2
    );
    // An empty input is a batch of nothing.
    let r = run(&["batch", "-"], Some(""));
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    assert!(r.stderr.contains("0 records"));
}

/// A copy of the default pack with every subsistence standard set to `value`.
fn pack_with_standard(dir: &Path, value: &str) -> PathBuf {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let pack = dir.join("reform-pack");
    copy_dir(&rules, &pack);
    let file = pack.join("parameters/subsistence.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut out = String::new();
    let mut in_standard = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_standard = line.trim() == "[subsistence.standard]";
        }
        let mut line = line.to_string();
        if in_standard && line.contains("from =") {
            for key in ["value", "urban", "rural"] {
                if let Some(start) = line.find(&format!("{key} = \"")) {
                    let at = start + key.len() + 4;
                    let end = at + line[at..].find('"').unwrap();
                    line.replace_range(at..end, value);
                }
            }
        }
        out += &line;
        out.push('\n');
    }
    assert!(
        out.matches(&format!("\"{value}\"")).count() >= 10,
        "every standard replaced"
    );
    std::fs::write(&file, out).unwrap();
    pack
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Per program: [recipients baseline, reform, gainers, losers, unchanged], [cost baseline, reform].
type Figures = BTreeMap<String, ([u64; 5], [Decimal; 2])>;

fn figures(baseline: &str, reform: &str) -> (u64, u64, Figures) {
    let mut by: BTreeMap<String, ([u64; 5], [Decimal; 2])> = BTreeMap::new();
    let (mut households, mut errors) = (0, 0);
    for (b, r) in baseline.lines().zip(reform.lines()) {
        let (b, r): (Value, Value) = (
            serde_json::from_str(b).unwrap(),
            serde_json::from_str(r).unwrap(),
        );
        if b.get("errors").is_some() || r.get("errors").is_some() {
            errors += 1;
            continue;
        }
        households += 1;
        for (p, pb) in b["programs"].as_object().unwrap() {
            let pr = &r["programs"][p];
            let pay = |x: &Value| {
                if x["status"] == "eligible" {
                    dec(&x["amount"])
                } else {
                    Decimal::ZERO
                }
            };
            let (xb, xr) = (pay(pb), pay(pr));
            let e = by.entry(p.clone()).or_insert(([0; 5], [Decimal::ZERO; 2]));
            e.0[0] += u64::from(pb["status"] == "eligible");
            e.0[1] += u64::from(pr["status"] == "eligible");
            e.0[2] += u64::from(xr > xb);
            e.0[3] += u64::from(xr < xb);
            e.0[4] += u64::from(xr == xb);
            e.1[0] += xb;
            e.1[1] += xr;
        }
    }
    (households, errors, by)
}

#[test]
fn compare_agrees_with_two_batch_runs() {
    let dir = scratch("compare");
    let (lines, bad) = corrupted(150, 42);
    let input = dir.join("in.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();

    // No reform: no change.
    let r = run(&["compare", path(&input)], None);
    assert_eq!(r.code, 1, "some households are errors");
    let c: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (c["households"].clone(), c["errors"].clone()),
        (json!(150), json!(bad.len()))
    );
    assert_eq!(c["top_changes"], json!([]));
    for (id, p) in c["programs"].as_object().unwrap() {
        assert_eq!(
            (
                p["gainers"].clone(),
                p["losers"].clone(),
                p["unchanged"].clone()
            ),
            (json!(0), json!(0), json!(150)),
            "{id}"
        );
        assert_eq!(p["recipients"]["baseline"], p["recipients"]["reform"]);
        assert_eq!(p["cost"]["baseline"], p["cost"]["reform"]);
    }
    assert!(
        r.stderr.contains("line 1: not valid JSON"),
        "errors are listed: {}",
        r.stderr
    );

    // --set against a pack with the same standard, and against two batch runs.
    let pack = pack_with_standard(&dir, "1500.00");
    let set = run(
        &[
            "compare",
            path(&input),
            "--set",
            "subsistence.standard=1500",
        ],
        None,
    );
    let reform_rules = run(
        &["compare", path(&input), "--reform-rules", path(&pack)],
        None,
    );
    assert_eq!(set.code, 1);
    assert_eq!(
        set.stdout, reform_rules.stdout,
        "--set and --reform-rules describe the same reform"
    );
    let c: Value = serde_json::from_str(&set.stdout).unwrap();
    let base = dir.join("base.jsonl");
    let reformed = dir.join("reform.jsonl");
    assert_eq!(
        run(&["batch", path(&input), "-o", path(&base)], None).code,
        1
    );
    assert_eq!(
        run(
            &[
                "batch",
                path(&input),
                "-o",
                path(&reformed),
                "--rules",
                path(&pack)
            ],
            None
        )
        .code,
        1
    );
    let (households, errors, by) = figures(
        &std::fs::read_to_string(&base).unwrap(),
        &std::fs::read_to_string(&reformed).unwrap(),
    );
    assert_eq!(c["households"], json!(households));
    assert_eq!(c["errors"], json!(errors));
    assert_eq!(c["programs"].as_object().unwrap().len(), by.len());
    for (id, (counts, cost)) in &by {
        let p = &c["programs"][id];
        assert_eq!(
            [
                &p["recipients"]["baseline"],
                &p["recipients"]["reform"],
                &p["gainers"],
                &p["losers"],
                &p["unchanged"]
            ]
            .map(|v| v.as_u64().unwrap()),
            *counts,
            "{id}"
        );
        assert_eq!(
            p["cost"],
            json!({"baseline": format2(cost[0]), "reform": format2(cost[1])}),
            "{id}"
        );
    }
    assert!(
        by["subsistence"].0[2] > 0 && by["subsistence"].1[1] > by["subsistence"].1[0],
        "the reform pays more"
    );
    let top = c["top_changes"].as_array().unwrap();
    assert_eq!(top.len(), 10);
    for t in top {
        assert_eq!(dec(&t["reform"]) - dec(&t["baseline"]), dec(&t["change"]));
    }

    // A regional --set on top of --reform-rules: Beijing at 1600, the rest at 1500.
    let both = run(
        &[
            "compare",
            path(&input),
            "--reform-rules",
            path(&pack),
            "--set",
            "110000:subsistence.standard=1600",
        ],
        None,
    );
    let c2: Value = serde_json::from_str(&both.stdout).unwrap();
    assert!(
        dec(&c2["programs"]["subsistence"]["cost"]["reform"])
            > dec(&c["programs"]["subsistence"]["cost"]["reform"])
    );

    // The text table.
    let text = run(
        &[
            "compare",
            path(&input),
            "--set",
            "subsistence.standard=1500",
            "--format",
            "text",
        ],
        None,
    );
    assert_eq!(text.code, 1);
    assert!(
        text.stdout
            .contains("150 households compared, 4 with errors"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("subsistence.standard=1500"));
    let row = text
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("subsistence"))
        .expect("a subsistence row");
    assert!(row.contains(&by["subsistence"].0[2].to_string()));
    assert!(text.stdout.contains("Largest changes"));

    // Bad usage.
    assert_eq!(
        run(
            &["compare", path(&input), "--set", "no.such.parameter=1"],
            None
        )
        .code,
        2
    );
    assert_eq!(
        run(
            &["compare", path(&input), "--set", "subsistence.standard=abc"],
            None
        )
        .code,
        2
    );
    assert_eq!(
        run(
            &["compare", path(&input), "--set", "subsistence.standard"],
            None
        )
        .code,
        2
    );
    assert_eq!(
        run(
            &[
                "compare",
                path(&input),
                "--reform-rules",
                path(&dir.join("nope"))
            ],
            None
        )
        .code,
        2
    );
    assert_eq!(
        run(&["compare", path(&dir.join("nope.jsonl"))], None).code,
        2
    );

    // Every household fine: exit 0.
    let clean = dir.join("clean.jsonl");
    std::fs::write(&clean, synth(30, 2)).unwrap();
    let r = run(
        &[
            "compare",
            path(&clean),
            "--set",
            "subsistence.standard=1500",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}
