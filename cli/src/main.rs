//! `jiuzhu`: the command line door. One module per subcommand; no policy logic here.
//!
//! Exit codes: 0 ok, 1 evaluation or test failures, 2 bad usage or bad input.

mod batch;
mod check;
mod common;
mod compare;
mod evaluate;
mod output;
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
static ALLOCATOR: Allocator = Allocator;

/// mimalloc, asked for a plain block whenever the alignment allows. `mimalloc::MiMalloc`
/// always calls the aligned entry point, which tests each block it hands out; every
/// mimalloc block is aligned to at least 8 bytes, so those requests need no test.
struct Allocator;

/// The alignment every mimalloc block has.
const PLAIN_ALIGN: usize = 8;

// SAFETY: each method forwards to the mimalloc function for the same job; blocks of
// alignment <= 8 come from the plain functions, which give 8-byte aligned blocks, and all
// are freed by `mi_free`, which takes blocks from either.
unsafe impl std::alloc::GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.align() <= PLAIN_ALIGN {
            unsafe { libmimalloc_sys::mi_malloc(layout.size()) as *mut u8 }
        } else {
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }
    }
    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.align() <= PLAIN_ALIGN {
            unsafe { libmimalloc_sys::mi_zalloc(layout.size()) as *mut u8 }
        } else {
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        }
    }
    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _: std::alloc::Layout) {
        unsafe { libmimalloc_sys::mi_free(ptr as *mut std::ffi::c_void) }
    }
    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= PLAIN_ALIGN {
            unsafe { libmimalloc_sys::mi_realloc(ptr as *mut std::ffi::c_void, new_size) as *mut u8 }
        } else {
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
        }
    }
}

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
