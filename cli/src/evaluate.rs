//! `jiuzhu evaluate FILE|-`: one household, one assessment.

use crate::common::*;
use jiuzhu_core::money::format_grouped;
use jiuzhu_core::{Assessment, Options};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Household JSON file, or - for standard input.
    pub file: String,
    /// Rule pack folder (default: the embedded pack).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Assessment date (overrides the household's as_of; default: the household's, else today).
    #[arg(long, value_parser = parse_date_arg)]
    pub as_of: Option<jiuzhu_core::Date>,
    /// Language of messages.
    #[arg(long, default_value = "zh")]
    pub lang: String,
    /// Include the audit trace (every parameter read, every program result).
    #[arg(long)]
    pub trace: bool,
    /// Leave out each reason's message (codes, legal bases and values stay).
    #[arg(long)]
    pub no_messages: bool,
    /// json (compact, one line) or text (a summary for a caseworker).
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// Indent the JSON.
    #[arg(long)]
    pub pretty: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Json,
    Text,
}

pub fn run(args: Args) -> u8 {
    let engine = match load_engine(args.rules.as_deref()) {
        Ok(e) => e,
        Err(e) => return report(&e),
    };
    let text = match read_input(&args.file) {
        Ok(t) => t,
        Err(m) => {
            eprintln!("error: {m}");
            return BAD_INPUT;
        }
    };
    let opts = Options {
        as_of: args.as_of,
        default_as_of: Some(today()),
        lang: Some(args.lang.clone()),
        trace: args.trace,
        messages: !args.no_messages,
    };
    if let (Format::Json, false) = (args.format, args.pretty) {
        // Written as rendered: the bytes of `to_json()`, without building the assessment.
        return match engine.evaluate_json(text.as_str(), &opts) {
            Ok(json) => {
                out(&(json + "\n"));
                OK
            }
            Err(e) => report(&e),
        };
    }
    match engine.evaluate_str(&text, &opts) {
        Ok(a) => {
            match args.format {
                Format::Json if args.pretty => out(&(a.to_json_pretty() + "\n")),
                Format::Json => out(&(a.to_json() + "\n")),
                Format::Text => out(&summary(&a, &args.lang)),
            }
            OK
        }
        Err(e) => report(&e),
    }
}

/// A readable summary: what a caseworker reads aloud to an applicant.
pub fn summary(a: &Assessment, lang: &str) -> String {
    let zh = lang == "zh";
    let mut s = String::new();
    let d = &a.derived;
    if zh {
        s += &format!("家庭 {} · 地区 {} · 评估日 {} · 规则包 {} {}\n", a.household_id, a.region, a.as_of, a.rule_pack.name, a.rule_pack.version);
        s += &format!("人口 {} · 计算收入 {} 元/月 · 人均 {} 元/月\n", d.size, format_grouped(d.counted_income.0), format_grouped(d.per_capita_income.0));
    } else {
        s += &format!("Household {} · region {} · as of {} · pack {} {}\n", a.household_id, a.region, a.as_of, a.rule_pack.name, a.rule_pack.version);
        s += &format!("Size {} · counted income {} yuan/month · per capita {} yuan/month\n", d.size, format_grouped(d.counted_income.0), format_grouped(d.per_capita_income.0));
    }
    for (id, p) in &a.programs {
        s += "\n";
        let cat = p.category.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
        s += &format!("{id}: {}{cat} {} {}\n", p.status, format_grouped(p.amount.0), p.period);
        for r in &p.reasons {
            match &r.message {
                Some(m) => s += &format!("  · {m} [{}]\n", r.code),
                None => s += &format!("  · [{}]\n", r.code),
            }
            if !r.basis.is_empty() {
                s += &format!("    {}\n", r.basis);
            }
        }
    }
    let t = &a.totals;
    s += "\n";
    if zh {
        s += &format!("合计（仅计符合条件的项目）：每月 {} 元 · 一次性 {} 元 · 每年 {} 元\n", format_grouped(t.monthly.0), format_grouped(t.one_off.0), format_grouped(t.annual.0));
    } else {
        s += &format!("Totals (eligible programs only): monthly {} · one-off {} · annual {}\n", format_grouped(t.monthly.0), format_grouped(t.one_off.0), format_grouped(t.annual.0));
    }
    s
}
