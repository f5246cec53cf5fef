//! The `jiuzhu` command end to end: outputs and exit codes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn jiuzhu(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jiuzhu"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes()).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}
fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn evaluate_the_example_household() {
    let o = jiuzhu(&["evaluate", "examples/household.json"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "compact JSON is one line");
    let a: serde_json::Value = serde_json::from_str(&out).unwrap();
    // examples.md: Beijing 110105 → 110000, dibao 2245.00, student 500.00
    assert_eq!(a["programs"]["subsistence"]["category"], "dibao");
    assert_eq!(a["programs"]["subsistence"]["amount"], "2245.00");
    assert_eq!(a["totals"]["monthly"], "2245.00");
    assert_eq!(a["totals"]["annual"], "500.00");
    assert_eq!(a["rule_pack"]["name"], "cn-social-assistance");
}

#[test]
fn evaluate_from_stdin_with_options() {
    let text = std::fs::read_to_string(root().join("examples/tekun.json")).unwrap();
    let o = jiuzhu(&["evaluate", "-", "--lang", "en", "--trace", "--as-of", "2025-03-01"], Some(&text));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let a: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(a["programs"]["subsistence"]["amount"], "2970.00");
    assert_eq!(a["totals"]["one_off"], "3500.00");
    assert!(a["trace"].as_array().unwrap().len() > 10);
    assert!(!a["programs"]["subsistence"]["reasons"][0]["message"].as_str().unwrap().chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
}

#[test]
fn as_of_flag_changes_the_parameters_in_force() {
    // Beijing S is 1395.00 before 2024-09-01: the 3-person example gets 3 × 1395 − 2250 + 139.50 = 2074.50
    let o = jiuzhu(&["evaluate", "examples/household.json", "--as-of", "2024-08-31"], None);
    let a: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(a["as_of"], "2024-08-31");
    assert_eq!(a["programs"]["subsistence"]["amount"], "2074.50");
}

#[test]
fn text_format_is_a_readable_summary() {
    let o = jiuzhu(&["evaluate", "examples/household.json", "--format", "text", "--lang", "en"], None);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("subsistence: eligible (dibao) 2,245.00 monthly"), "{out}");
    assert!(out.contains("Totals (eligible programs only): monthly 2,245.00 · one-off 0.00 · annual 500.00"), "{out}");
}

#[test]
fn same_input_same_bytes() {
    let a = jiuzhu(&["evaluate", "examples/students.json", "--trace"], None);
    let b = jiuzhu(&["evaluate", "examples/students.json", "--trace"], None);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn bad_input_exits_2_with_paths_on_stderr() {
    let o = jiuzhu(&["evaluate", "-"], Some(r#"{"id": "x", "region": "110000", "as_of": "2025-03-01", "members": [{"id": "m1", "relation": "head", "birth_date": "1980-01-01", "sex": "male", "incomes": [{"kind": "wage", "monthly": "-5"}]}]}"#));
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("members[0].incomes[0].monthly: negative amount \"-5\""), "{}", stderr(&o));
    for text in ["", "not json", "{\"id\":", "[]"] {
        let o = jiuzhu(&["evaluate", "-"], Some(text));
        assert_eq!(o.status.code(), Some(2), "{text:?}");
        assert!(!stderr(&o).contains("panicked"));
    }
    let o = jiuzhu(&["evaluate", "no/such/file.json"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read no/such/file.json"));
}

#[test]
fn unknown_region_exits_2_naming_it() {
    let text = std::fs::read_to_string(root().join("examples/household.json")).unwrap().replace("\"110105\"", "\"120000\"");
    let o = jiuzhu(&["evaluate", "-"], Some(&text));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("region 120000 is not covered"), "{}", stderr(&o));
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(jiuzhu(&["frobnicate"], None).status.code(), Some(2));
    assert_eq!(jiuzhu(&["evaluate"], None).status.code(), Some(2));
    assert_eq!(jiuzhu(&["evaluate", "examples/household.json", "--as-of", "yesterday"], None).status.code(), Some(2));
    assert_eq!(jiuzhu(&["evaluate", "examples/household.json", "--lang", "fr"], None).status.code(), Some(2));
    assert_eq!(jiuzhu(&["--help"], None).status.code(), Some(0));
}

/// A copy of the default pack (without its tests) in a temporary folder.
fn copy_of_pack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["parameters", "programs", "messages"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        for e in std::fs::read_dir(root().join("rules").join(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.path().join(sub).join(e.file_name())).unwrap();
        }
    }
    std::fs::copy(root().join("rules/pack.toml"), dir.path().join("pack.toml")).unwrap();
    dir
}

/// A copy of the default pack with one script replaced.
fn pack_with_script(program: &str, script: &str) -> tempfile::TempDir {
    let dir = copy_of_pack();
    std::fs::write(dir.path().join(format!("programs/{program}.rhai")), script).unwrap();
    dir
}

#[test]
fn a_failing_rule_exits_1_naming_the_program() {
    let dir = pack_with_script("medical", "let x = 1;\nx / 0\n");
    let o = jiuzhu(&["evaluate", "examples/household.json", "--rules", dir.path().to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("program `medical`") && err.contains("programs/medical.rhai:2"), "{err}");
}

#[test]
fn check_reports_problems_with_file_and_line() {
    let o = jiuzhu(&["check"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("cn-social-assistance 2025.1"));
    let o = jiuzhu(&["check", "rules"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dir = pack_with_script("student", "let a = 1;\nlet b = ;\n");
    let o = jiuzhu(&["check", dir.path().to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("programs/student.rhai:2:"), "{}", stderr(&o));
    let dir = pack_with_script("student", "#{ status: \"ineligible\", amount: 0, period: \"annual\", reasons: [reason(\"STU_BRAND_NEW\")] }");
    let o = jiuzhu(&["check", dir.path().to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("programs/student.rhai:1: reason code STU_BRAND_NEW has no message in messages/zh.toml"), "{}", stderr(&o));
}

#[test]
fn test_command_runs_the_pack_tests() {
    let o = jiuzhu(&["test", "rules"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains(" passed, 0 failed"));
    // a wrong expectation fails with a readable diff and exit 1
    let dir = copy_of_pack();
    let case = format!(
        "cases:\n  - name: wrong-on-purpose\n    household_file: {}\n    expect:\n      subsistence: {{ status: eligible, amount: \"2246.00\" }}\n",
        root().join("examples/household.json").display()
    );
    std::fs::create_dir_all(dir.path().join("tests")).unwrap();
    std::fs::write(dir.path().join("tests/t.yaml"), case).unwrap();
    let o = jiuzhu(&["test", dir.path().to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("FAIL wrong-on-purpose"), "{out}");
    assert!(out.contains("subsistence.amount: expected 2246.00, got 2245.00"), "{out}");
}

#[test]
fn schema_is_json_schema_of_the_household() {
    let o = jiuzhu(&["schema"], None);
    assert_eq!(o.status.code(), Some(0));
    let s: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(s["title"], "Household");
    let required: Vec<&str> = s["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(required.contains(&"id") && required.contains(&"region") && required.contains(&"members"));
    assert_eq!(s["additionalProperties"], false);
    assert!(s["$defs"]["Member"]["properties"]["disability_grade"].is_object());
}

#[test]
fn invalid_utf8_input_exits_2_naming_the_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, b"{\"id\": \"\xff\xfe\"}").unwrap();
    let o = jiuzhu(&["evaluate", path.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not valid UTF-8 (byte 8)"), "{}", stderr(&o));
}
