//! `jiuzhu test [DIR]`: run a pack's tests/*.yaml with the pack in DIR.

use crate::common::*;
use jiuzhu_core::testing::run_pack_tests;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Rule pack folder (default: ./rules).
    #[arg(default_value = "rules")]
    pub dir: PathBuf,
    /// Only cases whose name contains this text.
    #[arg(long)]
    pub filter: Option<String>,
}

pub fn run(args: Args) -> u8 {
    let engine = match load_engine(Some(&args.dir)) {
        Ok(e) => e,
        Err(e) => return report(&e),
    };
    let mut report = run_pack_tests(&engine, &args.dir);
    if let Some(f) = &args.filter {
        report.cases.retain(|c| c.name.contains(f.as_str()));
    }
    for b in &report.broken {
        println!("BROKEN {b}");
    }
    for c in report.cases.iter().filter(|c| !c.failures.is_empty()) {
        println!("FAIL {} ({})", c.name, c.file);
        for f in &c.failures {
            println!("    {f}");
        }
    }
    let (passed, failed) = (report.passed(), report.failed());
    println!("pack tests: {passed} passed, {failed} failed");
    if report.cases.is_empty() && report.broken.is_empty() {
        eprintln!("no test cases found in {}", args.dir.display());
        return FAILED;
    }
    if failed == 0 { OK } else { FAILED }
}
