//! Embeds the default rule pack (`../rules`) into the library, so an engine needs no
//! files at run time. Only the files that decide outcomes are embedded (pack.toml,
//! parameters/, programs/, messages/); tests and documentation stay on disk.
use std::{env, fs, path::Path};

const PACK_DIRS: &[&str] = &["parameters", "programs", "messages"];

fn main() {
    let manifest = env::var("CARGO_MANIFEST_DIR").unwrap();
    let rules = Path::new(&manifest).join("../rules");
    let mut files: Vec<String> = Vec::new();
    println!("cargo:rerun-if-changed={}", rules.display());
    // Without the pack the engine could not evaluate anything: fail the build, not the
    // first user (an sdist or a copied crate without ../rules would otherwise build).
    if !rules.join("pack.toml").exists() {
        panic!("the default rule pack is missing: expected {}", rules.join("pack.toml").display());
    }
    files.push("pack.toml".into());
    println!("cargo:rerun-if-changed={}", rules.join("pack.toml").display());
    for dir in PACK_DIRS {
        let d = rules.join(dir);
        println!("cargo:rerun-if-changed={}", d.display());
        if let Ok(entries) = fs::read_dir(&d) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_file() {
                    let name = p.file_name().unwrap().to_string_lossy().to_string();
                    if !name.starts_with('.') {
                        files.push(format!("{dir}/{name}"));
                        println!("cargo:rerun-if-changed={}", p.display());
                    }
                }
            }
        }
    }
    files.sort();
    let mut out = String::from("/// The default pack's files, sorted by path: (relative path, contents).\npub static EMBEDDED_PACK: &[(&str, &[u8])] = &[\n");
    for f in &files {
        let abs = fs::canonicalize(rules.join(f)).unwrap();
        out.push_str(&format!("    ({f:?}, include_bytes!({:?})),\n", abs.display().to_string()));
    }
    out.push_str("];\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("embedded_pack.rs");
    fs::write(dest, out).unwrap();
}
