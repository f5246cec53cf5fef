//! `jiuzhu`: the command line door. One module per subcommand; no policy logic here.
//!
//! Exit codes: 0 ok, 1 evaluation or test failures, 2 bad usage or bad input.

mod batch;
mod check;
mod common;
mod compare;
mod evaluate;
mod schema;
mod synth;
mod test;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "jiuzhu", version, about = "jiuzhu (救助): decide community social assistance from a household profile")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate one household (JSON file, or - for standard input).
    Evaluate(evaluate::Args),
    /// Load and compile a rule pack; report every problem with file and line.
    Check(check::Args),
    /// Run a rule pack's tests/*.yaml.
    Test(test::Args),
    /// Print the JSON Schema of the household profile.
    Schema,
    /// Evaluate households from a JSON Lines file, one output line per input line, on every core.
    Batch(batch::Args),
    /// Compare a population under the baseline and a reform (--set PARAM=VALUE, --reform-rules DIR).
    Compare(compare::Args),
    /// Write a deterministic synthetic population (JSON Lines) for demos, benchmarks and tests.
    Synth(synth::Args),
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Evaluate(a) => evaluate::run(a),
        Command::Check(a) => check::run(a),
        Command::Test(a) => test::run(a),
        Command::Schema => schema::run(),
        Command::Batch(a) => batch::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Synth(a) => synth::run(a),
    };
    ExitCode::from(code)
}
