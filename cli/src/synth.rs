//! `jiuzhu synth N [--seed S] [--region R] [--as-of DATE] [-o FILE]`: a deterministic
//! synthetic population, one household per line (same seed, same bytes), for demos,
//! benchmarks and tests. See `jiuzhu_core::synth` for the mix.

use crate::common::*;
use jiuzhu_core::synth::{synth, DEFAULT_AS_OF, DEFAULT_SEED};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Number of households.
    pub n: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Only this region (default: the example regions, urban and rural).
    #[arg(long)]
    pub region: Option<String>,
    /// Assessment date written into every household.
    #[arg(long, value_parser = parse_date_arg, default_value = DEFAULT_AS_OF)]
    pub as_of: jiuzhu_core::Date,
    /// Output file (default: standard output); an existing one is replaced as `batch -o`
    /// replaces it.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Rule pack whose parameters (subsistence standards) place the incomes (default: the embedded pack).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

pub fn run(args: Args) -> u8 {
    let engine = match load_engine(args.rules.as_deref()) {
        Ok(e) => e,
        Err(e) => return report(&e),
    };
    let population = match synth(
        &engine,
        args.n,
        args.seed,
        args.region.as_deref(),
        args.as_of,
    ) {
        Ok(p) => p,
        Err(e) => return report(&e),
    };
    let mut writer: Box<dyn Write> = match &args.output {
        None => Box::new(BufWriter::with_capacity(1 << 20, io::stdout().lock())),
        Some(path) => match crate::output::create(path) {
            Ok(f) => Box::new(BufWriter::with_capacity(1 << 20, f)),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                return BAD_INPUT;
            }
        },
    };
    let mut result = Ok(());
    for line in population {
        result = writer
            .write_all(line.as_bytes())
            .and_then(|_| writer.write_all(b"\n"));
        if result.is_err() {
            break;
        }
    }
    match result.and_then(|_| writer.flush()) {
        Ok(()) => OK,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => OK,
        Err(e) => {
            eprintln!("error: cannot write: {e}");
            FAILED
        }
    }
}
