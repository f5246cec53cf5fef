//! A rule pack: `pack.toml`, parameters, program scripts and messages, read from a
//! folder, from memory (wasm, tests) or from the copy embedded at build time. The digest
//! (sha256 over every file that decides an outcome, in path order) identifies the pack
//! in every assessment.

use crate::error::{Error, PackProblem};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/embedded_pack.rs"));

/// The folders whose files make a pack (tests and docs are not part of it).
const PACK_DIRS: &[&str] = &["parameters", "programs", "messages"];

/// The files of a pack: relative path → text, sorted by path.
#[derive(Debug, Clone, Default)]
pub struct PackFiles {
    pub files: BTreeMap<String, String>,
}

impl PackFiles {
    /// The default pack, embedded in the binary.
    pub fn embedded() -> Self {
        let files = EMBEDDED_PACK
            .iter()
            .map(|(p, b)| (p.to_string(), String::from_utf8_lossy(b).into_owned()))
            .collect();
        PackFiles { files }
    }

    /// Reads a pack folder: `pack.toml` and the files in parameters/, programs/, messages/.
    pub fn from_dir(dir: &Path) -> Result<Self, Error> {
        let problem = |file: &str, m: String| Error::Pack(vec![PackProblem { file: file.into(), line: None, message: m }]);
        let mut files = BTreeMap::new();
        let manifest = dir.join("pack.toml");
        let text = std::fs::read_to_string(&manifest)
            .map_err(|e| problem(&manifest.display().to_string(), format!("cannot read: {e}")))?;
        files.insert("pack.toml".to_string(), text);
        for sub in PACK_DIRS {
            let d = dir.join(sub);
            let Ok(entries) = std::fs::read_dir(&d) else { continue };
            for e in entries.flatten() {
                let p = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if !p.is_file() || name.starts_with('.') {
                    continue;
                }
                let rel = format!("{sub}/{name}");
                let text = std::fs::read_to_string(&p).map_err(|e| problem(&rel, format!("cannot read: {e}")))?;
                files.insert(rel, text);
            }
        }
        Ok(PackFiles { files })
    }

    /// A pack given as (path, text) pairs, e.g. from JavaScript.
    pub fn from_map(files: impl IntoIterator<Item = (String, String)>) -> Self {
        PackFiles { files: files.into_iter().filter(|(p, _)| is_pack_file(p)).collect() }
    }

    /// `sha256:<hex>` over `path NUL length NUL bytes` of every file in path order.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for (path, text) in &self.files {
            h.update(path.as_bytes());
            h.update([0]);
            h.update(text.len().to_string().as_bytes());
            h.update([0]);
            h.update(text.as_bytes());
        }
        let out = h.finalize();
        let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }

    /// Files under `dir/` with the given extension, in path order.
    pub fn in_dir<'a>(&'a self, dir: &'a str, ext: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.files
            .iter()
            .filter(move |(p, _)| p.starts_with(dir) && p[dir.len()..].starts_with('/') && p.ends_with(ext))
            .map(|(p, t)| (p.as_str(), t.as_str()))
    }
}

fn is_pack_file(p: &str) -> bool {
    p == "pack.toml" || PACK_DIRS.iter().any(|d| p.starts_with(d) && p[d.len()..].starts_with('/'))
}

/// `pack.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The first is the default language.
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
    pub programs: Vec<ProgramDecl>,
    /// The parameter whose regions count as "known" (default `subsistence.standard`).
    #[serde(default = "default_region_parameter")]
    pub region_parameter: String,
    #[serde(default)]
    pub limits: Limits,
}

fn default_languages() -> Vec<String> {
    vec!["zh".into()]
}
fn default_region_parameter() -> String {
    "subsistence.standard".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramDecl {
    pub id: String,
    /// Script path relative to the pack; default `programs/<id>.rhai`.
    #[serde(default)]
    pub script: Option<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

impl ProgramDecl {
    pub fn script_path(&self) -> String {
        self.script.clone().unwrap_or_else(|| format!("programs/{}.rhai", self.id))
    }
}

/// Sandbox limits for every program run. The defaults are generous for real rules and
/// small enough that a runaway script stops in well under a second.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_expr_depth: usize,
    pub max_function_expr_depth: usize,
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 100_000,
            max_call_levels: 32,
            max_expr_depth: 64,
            max_function_expr_depth: 32,
            max_string_size: 65_536,
            max_array_size: 10_000,
            max_map_size: 2_000,
        }
    }
}

impl Manifest {
    pub fn parse(text: &str) -> Result<Self, PackProblem> {
        toml::from_str::<Manifest>(text).map_err(|e| PackProblem {
            file: "pack.toml".into(),
            line: e.span().map(|s| crate::params::line_of(text, s.start)),
            message: e.message().to_string(),
        })
    }

    /// Programs in run order: dependencies first, ties in listed order. Reports unknown
    /// dependencies, duplicates and cycles.
    pub fn run_order(&self) -> Result<Vec<usize>, Vec<PackProblem>> {
        let mut problems = Vec::new();
        let p = |m: String| PackProblem { file: "pack.toml".into(), line: None, message: m };
        let index: BTreeMap<&str, usize> = self.programs.iter().enumerate().map(|(i, d)| (d.id.as_str(), i)).collect();
        if index.len() != self.programs.len() {
            problems.push(p("a program id is listed twice".into()));
        }
        for d in &self.programs {
            if d.id.is_empty() || !d.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                problems.push(p(format!("program id {:?}: use lowercase letters, digits and _", d.id)));
            }
            for dep in &d.depends_on {
                if !index.contains_key(dep.as_str()) {
                    problems.push(p(format!("program `{}` depends on unknown program `{dep}`", d.id)));
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut order = Vec::new();
        let mut done = vec![false; self.programs.len()];
        while order.len() < self.programs.len() {
            let next = (0..self.programs.len()).find(|&i| {
                !done[i] && self.programs[i].depends_on.iter().all(|d| done[index[d.as_str()]])
            });
            match next {
                Some(i) => {
                    done[i] = true;
                    order.push(i);
                }
                None => {
                    let stuck: Vec<&str> = (0..done.len()).filter(|&i| !done[i]).map(|i| self.programs[i].id.as_str()).collect();
                    return Err(vec![p(format!("dependency cycle among programs: {}", stuck.join(", ")))]);
                }
            }
        }
        Ok(order)
    }
}
