//! `jiuzhu compare IN.jsonl [--set [REGION:]PARAM=VALUE]… [--reform-rules DIR]`: the
//! same households under the baseline and a reform — recipients, cost, gainers and
//! losers per program, and the largest changes. Streams: memory holds one chunk of
//! households, the aggregates and the top changes.
//!
//! Exit codes: 0 every household compared, 1 some households failed (they count in
//! `errors`), 2 bad usage (a bad `--set`, a pack that does not load, an unreadable input).

use crate::batch::{open_input, progress_bar, tick};
use crate::common::*;
use jiuzhu_core::compare::{compare_lines, Comparison};
use jiuzhu_core::money::format_grouped;
use jiuzhu_core::{Decimal, Engine, Options};
use std::path::PathBuf;

/// Error records printed on stderr; the rest are only counted.
const SHOWN_ERRORS: u64 = 10;

#[derive(clap::Args)]
pub struct Args {
    /// Households, one JSON object per line (JSON Lines), or - for standard input.
    pub input: String,
    /// A parameter of the reform, for every region (`subsistence.standard=1500`) or one
    /// region and those below it (`110000:subsistence.standard=1500`); repeatable.
    #[arg(long = "set", value_name = "[REGION:]PARAM=VALUE")]
    pub set: Vec<String>,
    /// Load the reform from this pack (`--set` then applies on top of it).
    #[arg(long)]
    pub reform_rules: Option<PathBuf>,
    /// The baseline pack folder (default: the embedded pack).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// json or text (a readable table).
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// Assessment date (overrides each household's as_of; default: the household's, else today).
    #[arg(long, value_parser = parse_date_arg)]
    pub as_of: Option<jiuzhu_core::Date>,
    /// Worker threads (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Json,
    Text,
}

pub fn run(args: Args) -> u8 {
    let baseline = match load_engine(args.rules.as_deref()) {
        Ok(e) => e,
        Err(e) => return report(&e),
    };
    let reform_base = match &args.reform_rules {
        Some(dir) => match Engine::from_dir(dir) {
            Ok(e) => e,
            Err(e) => return report(&e),
        },
        None => baseline.clone(),
    };
    let reform = match reform_base.with_parameters(args.set.iter().map(String::as_str)) {
        Ok(e) => e,
        Err(e) => return report(&e),
    };
    let (reader, size) = match open_input(&args.input) {
        Ok(r) => r,
        Err(m) => {
            eprintln!("error: {m}");
            return BAD_INPUT;
        }
    };
    let opts = Options {
        as_of: args.as_of,
        default_as_of: Some(today()),
        ..Options::default()
    };
    let bar = progress_bar(size);
    let mut shown = 0u64;
    let result = compare_lines(&baseline, &reform, reader, &opts, args.threads, |p| {
        tick(&bar, p);
        for rec in p.chunk_errors {
            shown += 1;
            if shown <= SHOWN_ERRORS {
                let id = rec
                    .id
                    .as_deref()
                    .map(|i| format!(" ({i})"))
                    .unwrap_or_default();
                let what: Vec<String> = rec.errors.iter().map(|e| e.to_string()).collect();
                bar.suspend(|| eprintln!("line {}{id}: {}", rec.line, what.join("; ")));
            }
        }
    });
    bar.finish_and_clear();
    let comparison = match result {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return BAD_INPUT;
        }
    };
    if comparison.errors > SHOWN_ERRORS {
        eprintln!(
            "… and {} more households with errors",
            comparison.errors - SHOWN_ERRORS
        );
    }
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&comparison).unwrap_or_default() + "\n",
        Format::Text => table(&comparison, &describe_reform(&args)),
    };
    out(&text);
    if comparison.errors == 0 {
        OK
    } else {
        FAILED
    }
}

fn describe_reform(args: &Args) -> String {
    let mut parts = Vec::new();
    if let Some(dir) = &args.reform_rules {
        parts.push(format!("rules {}", dir.display()));
    }
    parts.extend(args.set.iter().cloned());
    if parts.is_empty() {
        "no change".into()
    } else {
        parts.join(", ")
    }
}

fn signed(d: Decimal) -> String {
    if d > Decimal::ZERO {
        format!("+{}", format_grouped(d))
    } else {
        format_grouped(d)
    }
}

fn signed_count(b: u64, r: u64) -> String {
    match r.cmp(&b) {
        std::cmp::Ordering::Greater => format!("+{}", r - b),
        std::cmp::Ordering::Less => format!("-{}", b - r),
        std::cmp::Ordering::Equal => "0".into(),
    }
}

/// The comparison as a readable table.
fn table(c: &Comparison, reform: &str) -> String {
    let mut s = format!(
        "Baseline vs reform ({reform}): {} households compared, {} with errors\n\n",
        c.households, c.errors
    );
    let rows: Vec<[String; 7]> = c
        .programs
        .iter()
        .map(|(id, p)| {
            [
                id.clone(),
                format!(
                    "{} → {} ({})",
                    p.recipients.baseline,
                    p.recipients.reform,
                    signed_count(p.recipients.baseline, p.recipients.reform)
                ),
                format!(
                    "{} → {}",
                    format_grouped(p.cost.baseline.0),
                    format_grouped(p.cost.reform.0)
                ),
                signed(p.cost.reform.0 - p.cost.baseline.0),
                p.gainers.to_string(),
                p.losers.to_string(),
                p.unchanged.to_string(),
            ]
        })
        .collect();
    s += &grid(
        &[
            "program",
            "recipients",
            "cost (payable, yuan)",
            "cost change",
            "gainers",
            "losers",
            "unchanged",
        ],
        &rows,
        1,
    );
    if !c.top_changes.is_empty() {
        s += "\nLargest changes (payable amounts)\n";
        let rows: Vec<[String; 5]> = c
            .top_changes
            .iter()
            .map(|t| {
                [
                    t.household_id.clone(),
                    t.program.clone(),
                    format_grouped(t.baseline.0),
                    format_grouped(t.reform.0),
                    signed(t.change.0),
                ]
            })
            .collect();
        s += &grid(
            &["household", "program", "baseline", "reform", "change"],
            &rows,
            2,
        );
    }
    s
}

/// Columns padded to their widest cell: the first `left` left-aligned, the others right-aligned.
fn grid<const N: usize>(head: &[&str; N], rows: &[[String; N]], left: usize) -> String {
    let mut widths = head.map(|h| h.chars().count());
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut l = String::from(" ");
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = " ".repeat(w - cell.chars().count());
            l += if i == 0 { " " } else { "  " };
            if i < left {
                l += &format!("{cell}{pad}");
            } else {
                l += &format!("{pad}{cell}");
            }
        }
        l.trim_end().to_string() + "\n"
    };
    let mut s = line(head.to_vec());
    for r in rows {
        s += &line(r.iter().map(String::as_str).collect());
    }
    s
}
