//! The fast paths against their references on arbitrary text: the compiled evaluator
//! against Rhai's interpreter, the fast household reader against the full reader. Same
//! result (assessment bytes or error text) either way, or it is a bug.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn engines() -> &'static (jiuzhu_core::Engine, jiuzhu_core::Engine) {
    static ENGINES: OnceLock<(jiuzhu_core::Engine, jiuzhu_core::Engine)> = OnceLock::new();
    ENGINES.get_or_init(|| {
        let e = jiuzhu_core::Engine::new().expect("default pack loads");
        let i = e.interpreted();
        (e, i)
    })
}

fn outcome(r: jiuzhu_core::Result<jiuzhu_core::Assessment>) -> String {
    match r {
        Ok(a) => a.to_json(),
        Err(e) => format!("error: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (fast, reference) = engines();
    let opts = jiuzhu_core::Options { default_as_of: jiuzhu_core::parse_date("2025-03-01"), ..Default::default() };
    // compiled evaluator vs interpreter (both read the text the same way)
    let a = outcome(fast.evaluate_str(text, &opts));
    let b = outcome(reference.evaluate_str(text, &opts));
    assert_eq!(a, b, "compiled vs interpreted");
    // fast reader vs the full path (JSON value, then validation)
    let full = match jiuzhu_core::household::parse_household_text(text) {
        Ok(v) => outcome(fast.evaluate_value(&v, &opts)),
        Err(errs) => outcome(Err(jiuzhu_core::Error::Validation(errs))),
    };
    assert_eq!(a, full, "fast reader vs full path");
});
