//! Household parsing and validation on arbitrary bytes: must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(value) = jiuzhu_core::household::parse_household_text(text) {
            let date = jiuzhu_core::parse_date("2025-03-01").unwrap();
            let _ = jiuzhu_core::household::read_household(&value, date);
        }
    }
});
