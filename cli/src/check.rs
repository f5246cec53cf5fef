//! `jiuzhu check [DIR]`: load and compile a pack, report every problem with file:line.

use crate::common::*;
use jiuzhu_core::Error;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Rule pack folder (default: the embedded pack).
    pub dir: Option<PathBuf>,
}

pub fn run(args: Args) -> u8 {
    let engine = match load_engine(args.dir.as_deref()) {
        Ok(e) => e,
        Err(Error::Pack(problems)) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!("{} problem{} found", problems.len(), if problems.len() == 1 { "" } else { "s" });
            return FAILED;
        }
        Err(e) => return report(&e),
    };
    let problems = engine.lint();
    for p in &problems {
        eprintln!("{p}");
    }
    let info = engine.pack_info();
    if problems.is_empty() {
        println!(
            "{} {} ({}): {} programs [{}], {} parameters, regions {}: ok",
            info.name,
            info.version,
            info.digest,
            engine.program_ids().len(),
            engine.program_ids().join(", "),
            engine.parameters().parameters().len(),
            engine.regions().iter().cloned().collect::<Vec<_>>().join(", ")
        );
        // Informative: a program outside the compiled subset runs interpreted (slower,
        // same results); say which construct keeps it there.
        for (id, why) in engine.interpreted_programs() {
            println!("note: program `{id}` runs interpreted by Rhai: {why}");
        }
        OK
    } else {
        eprintln!("{} problem{} found", problems.len(), if problems.len() == 1 { "" } else { "s" });
        FAILED
    }
}
