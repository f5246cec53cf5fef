//! The shared conformance corpus (tests/conformance): the Rust core must give exactly
//! the expected assessment for every household. The Python and wasm suites run the same files.

use jiuzhu_core::{Engine, Options};

#[test]
fn every_household_gives_the_expected_assessment() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/conformance");
    let households = std::fs::read_to_string(format!("{dir}/households.jsonl")).unwrap();
    let expected = std::fs::read_to_string(format!("{dir}/expected.jsonl")).unwrap();
    let engine = Engine::new().unwrap();
    let mut count = 0;
    for (i, (h, want)) in households.lines().zip(expected.lines()).enumerate() {
        let got = engine.evaluate_str(h, &Options::default()).unwrap().to_json();
        assert_eq!(got, want, "line {}", i + 1);
        count += 1;
    }
    assert_eq!(count, households.lines().count());
    assert_eq!(count, 44);
}
