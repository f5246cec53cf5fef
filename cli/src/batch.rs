//! `jiuzhu batch IN.jsonl|- -o OUT.jsonl|-`: one household per line in, one line out per
//! line in (the assessment, or an error record), in input order, evaluated on every core
//! with bounded memory. A progress bar on a terminal, a summary on stderr at the end.
//!
//! Exit codes: 0 every line evaluated, 1 some lines gave error records, 2 bad usage or
//! an input/output that cannot be read or written.

use crate::common::*;
use indicatif::{ProgressBar, ProgressStyle};
use jiuzhu_core::batch::{batch_stream, BatchSummary, Progress};
use jiuzhu_core::money::format_grouped;
use jiuzhu_core::{Engine, Options};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Households, one JSON object per line (JSON Lines), or - for standard input.
    pub input: String,
    /// Where to write the assessments, one per input line; - for standard output. An
    /// existing file of yours is replaced by a new one (a program still reading the old
    /// one keeps its content); a link or another user's file is rewritten in place.
    #[arg(short, long, default_value = "-")]
    pub output: String,
    /// Rule pack folder (default: the embedded pack).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Worker threads (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Assessment date (overrides each household's as_of; default: the household's, else today).
    #[arg(long, value_parser = parse_date_arg)]
    pub as_of: Option<jiuzhu_core::Date>,
    /// Language of messages.
    #[arg(long, default_value = "zh")]
    pub lang: String,
    /// Leave out each reason's message (codes, legal bases and values stay): about a
    /// quarter less output, and no message templates filled.
    #[arg(long)]
    pub no_messages: bool,
}

pub fn run(args: Args) -> u8 {
    let engine = match load_engine(args.rules.as_deref()) {
        Ok(e) => e,
        Err(e) => return report(&e),
    };
    if let Err(code) = check_lang(&engine, &args.lang) {
        return code;
    }
    let (reader, size) = match open_input(&args.input) {
        Ok(r) => r,
        Err(m) => {
            eprintln!("error: {m}");
            return BAD_INPUT;
        }
    };
    if args.output != "-"
        && args.input != "-"
        && same_file(Path::new(&args.input), Path::new(&args.output))
    {
        eprintln!(
            "error: the output {} is the input: it would be overwritten before it is read",
            args.output
        );
        return BAD_INPUT;
    }
    // The core writes whole pieces of output (hundreds of assessments, ~1 MB at once); a
    // buffer smaller than a piece lets them go straight to the file instead of being
    // copied into it first (a write larger than the buffer bypasses it).
    const OUT_BUFFER: usize = 1 << 16;
    let writer: Box<dyn Write> = if args.output == "-" {
        Box::new(BufWriter::with_capacity(OUT_BUFFER, io::stdout().lock()))
    } else {
        match crate::output::create(Path::new(&args.output)) {
            Ok(f) => Box::new(BufWriter::with_capacity(OUT_BUFFER, f)),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", args.output);
                return BAD_INPUT;
            }
        }
    };
    let opts = Options {
        as_of: args.as_of,
        default_as_of: Some(today()),
        lang: Some(args.lang.clone()),
        trace: false,
        messages: !args.no_messages,
    };
    let threads = thread_count(args.threads);
    let bar = progress_bar(size);
    let started = Instant::now();
    let result = batch_stream(&engine, reader, writer, &opts, args.threads, |p| {
        tick(&bar, p)
    });
    bar.finish_and_clear();
    match result {
        Ok(summary) => {
            eprint!("{}", summary_text(&summary, started.elapsed(), threads));
            if summary.errors == 0 {
                OK
            } else {
                FAILED
            }
        }
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => OK,
        Err(e) => {
            eprintln!("error: {e}");
            BAD_INPUT
        }
    }
}

/// Refuses a language the pack does not have before any line is read (every line
/// would otherwise be an error record).
pub fn check_lang(engine: &Engine, lang: &str) -> Result<(), u8> {
    let langs = &engine.manifest().languages;
    if langs.iter().any(|l| l == lang) {
        Ok(())
    } else {
        eprintln!(
            "error: language {lang:?} is not one of the pack's: {}",
            langs.join(", ")
        );
        Err(BAD_INPUT)
    }
}

/// A buffered reader of a file or standard input, and the file's size when known.
pub fn open_input(path: &str) -> Result<(Box<dyn BufRead>, Option<u64>), String> {
    if path == "-" {
        return Ok((
            Box::new(BufReader::with_capacity(1 << 20, io::stdin())),
            None,
        ));
    }
    let f = File::open(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let meta = f
        .metadata()
        .map_err(|e| format!("cannot read {path}: {e}"))?;
    if meta.is_dir() {
        return Err(format!("cannot read {path}: it is a directory"));
    }
    let size = meta.is_file().then_some(meta.len());
    Ok((Box::new(BufReader::with_capacity(1 << 20, f)), size))
}

/// The threads `--threads` gives (absent or 0: every core).
pub fn thread_count(threads: Option<usize>) -> usize {
    threads
        .filter(|&n| n > 0)
        .unwrap_or_else(rayon::current_num_threads)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A bar over the input's bytes when its size is known, else a spinner; hidden unless
/// stderr is a terminal.
pub fn progress_bar(size: Option<u64>) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match size {
        Some(n) => {
            let b = ProgressBar::new(n);
            b.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40}] {percent:>3}% {msg} (eta {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b
        }
        None => {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("{elapsed_precise} {spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b
        }
    };
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

pub fn tick(bar: &ProgressBar, p: &Progress) {
    bar.set_position(p.bytes);
    bar.set_message(format!("{} records, {} errors", p.lines, p.errors));
}

fn summary_text(s: &BatchSummary, elapsed: Duration, threads: usize) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        s.records as f64 / secs
    } else {
        0.0
    };
    let mut out = format!(
        "batch: {} records, {} assessed, {} errors in {:.2} s ({:.0} records/s on {} thread{})\n",
        s.records,
        s.assessed,
        s.errors,
        secs,
        rate,
        threads,
        if threads == 1 { "" } else { "s" }
    );
    let width = s
        .programs
        .keys()
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    out += &format!(
        "  {:<width$}  {:>10}  {:>7}  amounts (eligible only)\n",
        "program", "recipients", "review"
    );
    for (id, p) in &s.programs {
        let amounts: Vec<String> = p
            .amounts
            .iter()
            .map(|(period, m)| format!("{} {period}", format_grouped(m.0)))
            .collect();
        let amounts = if amounts.is_empty() {
            "0.00".to_string()
        } else {
            amounts.join("; ")
        };
        out += &format!(
            "  {id:<width$}  {:>10}  {:>7}  {amounts}\n",
            p.recipients, p.review
        );
    }
    out += &format!(
        "  totals: monthly {} · one-off {} · annual {}\n",
        format_grouped(s.totals.monthly.0),
        format_grouped(s.totals.one_off.0),
        format_grouped(s.totals.annual.0)
    );
    out
}
