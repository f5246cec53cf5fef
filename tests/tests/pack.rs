//! The default pack's own tests (rules/tests/*.yaml) run as part of `cargo test`, and
//! the pack on disk is the pack embedded in the binary.

mod common;
use jiuzhu_core::testing::run_pack_tests;
use jiuzhu_core::{Engine, PackFiles};
use std::path::Path;

fn rules_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules")
}

#[test]
fn every_pack_test_case_passes() {
    let engine = Engine::from_dir(rules_dir()).unwrap();
    let report = run_pack_tests(&engine, &rules_dir());
    assert!(report.broken.is_empty(), "broken test files: {:#?}", report.broken);
    let failures: Vec<String> = report
        .cases
        .iter()
        .filter(|c| !c.failures.is_empty())
        .map(|c| format!("{}: {}", c.name, c.failures.join("; ")))
        .collect();
    assert!(failures.is_empty(), "{} failing cases:\n{}", failures.len(), failures.join("\n"));
    assert!(report.cases.len() >= 80, "only {} cases", report.cases.len());
}

#[test]
fn the_embedded_pack_is_the_rules_folder() {
    let on_disk = PackFiles::from_dir(&rules_dir()).unwrap();
    assert_eq!(PackFiles::embedded().digest(), on_disk.digest());
    assert_eq!(Engine::new().unwrap().pack_info().version, "2025.1");
}

#[test]
fn the_default_pack_passes_its_lint() {
    let problems = Engine::new().unwrap().lint();
    assert!(problems.is_empty(), "{problems:#?}");
}
