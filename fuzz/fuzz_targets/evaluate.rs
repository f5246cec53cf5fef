//! A whole evaluation with the default pack on arbitrary text: any outcome but a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn engine() -> &'static jiuzhu_core::Engine {
    static ENGINE: OnceLock<jiuzhu_core::Engine> = OnceLock::new();
    ENGINE.get_or_init(|| jiuzhu_core::Engine::new().expect("default pack loads"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let opts = jiuzhu_core::Options {
            default_as_of: jiuzhu_core::parse_date("2025-03-01"),
            ..Default::default()
        };
        if let Ok(a) = engine().evaluate_str(text, &opts) {
            // an assessment always serializes, and the same input gives the same bytes
            let first = a.to_json();
            let again = engine().evaluate_str(text, &opts).expect("evaluates the second time too");
            assert_eq!(first, again.to_json());
        }
    }
});
