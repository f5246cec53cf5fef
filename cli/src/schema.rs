//! `jiuzhu schema`: the JSON Schema of the household, generated from the Rust types.

pub fn run() -> u8 {
    let schema = schemars::schema_for!(jiuzhu_core::Household);
    crate::common::out(&(serde_json::to_string_pretty(&schema).expect("schema serializes") + "\n"));
    crate::common::OK
}
