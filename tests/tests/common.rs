//! Shared helpers for the cross-surface tests.
#![allow(dead_code)]

use jiuzhu_core::{Engine, Error, Options, PackFiles};
use serde_json::{json, Value};

pub fn engine() -> Engine {
    Engine::new().expect("the embedded pack loads")
}

/// A small valid household (Beijing, one working adult) to mutate in tests.
pub fn base_household() -> Value {
    json!({
        "id": "T-1",
        "region": "110000",
        "as_of": "2025-03-01",
        "members": [
            { "id": "m1", "relation": "head", "birth_date": "1980-05-05", "sex": "male",
              "employment": { "status": "employed" },
              "incomes": [ { "kind": "wage", "monthly": "1500.00" } ] },
            { "id": "m2", "relation": "child", "birth_date": "2015-04-04", "sex": "female" }
        ]
    })
}

pub fn evaluate(engine: &Engine, h: &Value) -> Result<jiuzhu_core::Assessment, Error> {
    engine.evaluate_str(&h.to_string(), &Options::default())
}

/// The validation errors of a household, as `path: message` strings.
pub fn errors_of(h: &Value) -> Vec<String> {
    match evaluate(&engine(), h) {
        Err(Error::Validation(errs)) => errs.iter().map(|e| e.to_string()).collect(),
        Err(other) => panic!("expected a validation error, got {other}"),
        Ok(_) => panic!("expected a validation error, the household evaluated"),
    }
}

/// The embedded pack with some files replaced or added.
pub fn pack_with(changes: &[(&str, &str)]) -> PackFiles {
    let mut files = PackFiles::embedded();
    for (path, text) in changes {
        files.files.insert(path.to_string(), text.to_string());
    }
    files
}

/// The embedded pack with one program's script replaced.
pub fn pack_with_script(program: &str, script: &str) -> Result<Engine, Error> {
    Engine::from_files(pack_with(&[(&format!("programs/{program}.rhai"), script)]))
}
