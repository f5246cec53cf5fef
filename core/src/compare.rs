//! Reform analysis: the same households under a baseline and a reform engine.
//!
//! Only *payable* amounts count: a program's amount when its status is `eligible`,
//! else 0 (a `review` amount is a proposal). Per program, [`Comparison`] reports the
//! recipients (households with status `eligible`) and the cost (sum of payable amounts)
//! on each side, and how many households gained, lost or kept the same payable amount;
//! plus the [`TOP_CHANGES`] largest changes by absolute value. A household that fails
//! under either side counts in `errors` and nowhere else.
//!
//! [`Accumulator`] folds households one at a time, keeping only aggregates and the top
//! changes, so a comparison of any population runs in bounded memory; [`compare`] (any
//! iterator of households, in parallel chunks) and [`compare_lines`] (JSON lines, in the
//! batch's pipeline) drive it. Each household is decided on both sides, not rendered:
//! a worker hands over, per program and side, only whether the household receives it
//! and the payable amount. Sums are exact [`Decimal`]s.

use crate::batch::{self, ErrorRecord, HouseholdInput, Line, LineReader, Progress, Workers};
use crate::money::Money;
use crate::render::Decision;
use crate::{Assessment, Engine, Options, Result};
use indexmap::IndexMap;
use rust_decimal::Decimal;
use serde::Serialize;
use std::cmp::Ordering;
use std::io::{self, BufRead};

/// How many of the largest changes a comparison keeps.
pub const TOP_CHANGES: usize = 10;

/// A figure on each side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Sides<T> {
    pub baseline: T,
    pub reform: T,
}

/// One program under both sides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProgramComparison {
    /// Households with status `eligible`.
    pub recipients: Sides<u64>,
    /// Sum of payable amounts (two decimal places).
    pub cost: Sides<Money>,
    /// Households whose payable amount rose.
    pub gainers: u64,
    /// Households whose payable amount fell.
    pub losers: u64,
    /// Households whose payable amount stayed the same (zero on both sides included).
    pub unchanged: u64,
}

/// One household's change in one program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub household_id: String,
    pub program: String,
    pub baseline: Money,
    pub reform: Money,
    /// `reform - baseline`.
    pub change: Money,
}

/// The result of a comparison (serializes to the JSON `jiuzhu compare` prints).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// Households evaluated under both sides.
    pub households: u64,
    /// Households (input records) that failed under either side.
    pub errors: u64,
    /// Baseline programs in run order, then any program only the reform has.
    pub programs: IndexMap<String, ProgramComparison>,
    /// The largest changes by absolute value; ties in household order, then program order.
    pub top_changes: Vec<Change>,
}

impl Comparison {
    /// True when no household's payable amount changed in any program.
    pub fn no_change(&self) -> bool {
        self.programs
            .values()
            .all(|p| p.gainers == 0 && p.losers == 0)
    }
}

/// The payable amount of a program: its amount when `eligible`, else 0 (also when the
/// assessment has no such program).
pub fn payable(a: &Assessment, program: &str) -> Decimal {
    match a.programs.get(program) {
        Some(p) if p.status == "eligible" => p.amount.0,
        _ => Decimal::ZERO,
    }
}

/// What a comparison reads of one program on one side: whether the household receives
/// it (status `eligible`) and its payable amount.
#[derive(Debug, Clone, Copy)]
struct Payable<'a> {
    program: &'a str,
    recipient: bool,
    amount: Decimal,
}

impl<'a> Payable<'a> {
    fn new(program: &'a str, status: &str, amount: Decimal) -> Self {
        let recipient = status == "eligible";
        Payable {
            program,
            recipient,
            amount: if recipient { amount } else { Decimal::ZERO },
        }
    }
}

/// One household under both sides, as a comparison reads it: what a worker thread hands
/// over instead of two whole assessments (made, read and freed where they were made).
pub(crate) struct Pair<'a> {
    household_id: String,
    baseline: Vec<Payable<'a>>,
    reform: Vec<Payable<'a>>,
}

impl<'a> Pair<'a> {
    fn of_assessments(baseline: &'a Assessment, reform: &'a Assessment) -> Self {
        let side = |a: &'a Assessment| {
            a.programs
                .iter()
                .map(|(id, p)| Payable::new(id, p.status, p.amount.0))
                .collect()
        };
        Pair {
            household_id: baseline.household_id.clone(),
            baseline: side(baseline),
            reform: side(reform),
        }
    }

    /// `ids`: each side's program ids in run order ([`Engine::program_ids`]), the order
    /// of its decision's results.
    fn of_decisions<O, P>(ids: &Sides<Vec<&'a str>>, baseline: &Decision<'_, O>, reform: &Decision<'_, P>) -> Self
    where
        O: std::ops::Deref<Target = [crate::Outcome]>,
        P: std::ops::Deref<Target = [crate::Outcome]>,
    {
        fn side<'a, O: std::ops::Deref<Target = [crate::Outcome]>>(ids: &[&'a str], d: &Decision<'_, O>) -> Vec<Payable<'a>> {
            ids.iter().zip(d.results()).map(|(id, r)| Payable::new(id, r.status, r.amount.0)).collect()
        }
        Pair {
            household_id: baseline.household_id().to_string(),
            baseline: side(&ids.baseline, baseline),
            reform: side(&ids.reform, reform),
        }
    }
}

/// The entry of `program` on one side (none when that side's pack lacks it).
fn find<'s, 'a>(side: &'s [Payable<'a>], program: &str) -> Option<&'s Payable<'a>> {
    side.iter().find(|p| p.program == program)
}

struct Candidate {
    size: Decimal,
    household: u64,
    program: usize,
    change: Change,
}

impl Candidate {
    /// Larger change first, then earlier household, then earlier program.
    fn rank(&self, other: &Candidate) -> Ordering {
        other
            .size
            .cmp(&self.size)
            .then(self.household.cmp(&other.household))
            .then(self.program.cmp(&other.program))
    }
}

/// A comparison built one household at a time, in input order.
pub struct Accumulator {
    households: u64,
    errors: u64,
    /// Records seen (households and errors): the household order of the tie-break.
    seen: u64,
    programs: IndexMap<String, ProgramComparison>,
    top: Vec<Candidate>,
}

impl Accumulator {
    /// Lists the baseline's programs in run order, then those only the reform has.
    pub fn new(baseline: &Engine, reform: &Engine) -> Self {
        let mut programs = IndexMap::new();
        for id in baseline
            .program_ids()
            .into_iter()
            .chain(reform.program_ids())
        {
            programs
                .entry(id.to_string())
                .or_insert_with(ProgramComparison::default);
        }
        Accumulator {
            households: 0,
            errors: 0,
            seen: 0,
            programs,
            top: Vec::new(),
        }
    }

    /// A household evaluated under both sides.
    pub fn add(&mut self, baseline: &Assessment, reform: &Assessment) {
        self.add_pair(&Pair::of_assessments(baseline, reform));
    }

    /// A household evaluated under both sides, as a comparison reads it.
    pub(crate) fn add_pair(&mut self, pair: &Pair<'_>) {
        self.seen += 1;
        self.households += 1;
        for p in pair.baseline.iter().chain(&pair.reform) {
            if !self.programs.contains_key(p.program) {
                self.programs
                    .insert(p.program.to_string(), ProgramComparison::default());
            }
        }
        for (index, (id, p)) in self.programs.iter_mut().enumerate() {
            let (base, reform) = (find(&pair.baseline, id), find(&pair.reform, id));
            let amount = |s: Option<&Payable>| s.map_or(Decimal::ZERO, |s| s.amount);
            let (b, r) = (amount(base), amount(reform));
            p.recipients.baseline += u64::from(base.is_some_and(|s| s.recipient));
            p.recipients.reform += u64::from(reform.is_some_and(|s| s.recipient));
            p.cost.baseline.0 += b;
            p.cost.reform.0 += r;
            match r.cmp(&b) {
                Ordering::Greater => p.gainers += 1,
                Ordering::Less => p.losers += 1,
                Ordering::Equal => {
                    p.unchanged += 1;
                    continue;
                }
            }
            let candidate = Candidate {
                size: (r - b).abs(),
                household: self.seen,
                program: index,
                change: Change {
                    household_id: pair.household_id.clone(),
                    program: id.clone(),
                    baseline: Money(b),
                    reform: Money(r),
                    change: Money(r - b),
                },
            };
            let full = self.top.len() >= TOP_CHANGES;
            if full
                && self
                    .top
                    .last()
                    .is_some_and(|worst| candidate.rank(worst) != Ordering::Less)
            {
                continue;
            }
            let at = self
                .top
                .partition_point(|c| c.rank(&candidate) == Ordering::Less);
            self.top.insert(at, candidate);
            self.top.truncate(TOP_CHANGES);
        }
    }

    /// A household (or input record) that failed under either side.
    pub fn add_error(&mut self) {
        self.seen += 1;
        self.errors += 1;
    }

    /// A household's outcome under both sides.
    pub fn add_result(&mut self, r: &Result<(Assessment, Assessment)>) {
        match r {
            Ok((b, r)) => self.add(b, r),
            Err(_) => self.add_error(),
        }
    }

    /// [`Accumulator::add_result`] for a household as a comparison reads it.
    fn add_pair_result<E>(&mut self, r: &std::result::Result<Pair<'_>, E>) {
        match r {
            Ok(pair) => self.add_pair(pair),
            Err(_) => self.add_error(),
        }
    }

    /// The comparison so far.
    pub fn snapshot(&self) -> Comparison {
        Comparison {
            households: self.households,
            errors: self.errors,
            programs: self.programs.clone(),
            top_changes: self.top.iter().map(|c| c.change.clone()).collect(),
        }
    }

    pub fn finish(self) -> Comparison {
        Comparison {
            households: self.households,
            errors: self.errors,
            programs: self.programs,
            top_changes: self.top.into_iter().map(|c| c.change).collect(),
        }
    }
}

/// One household under both engines (parsed once).
pub fn evaluate_pair(
    baseline: &Engine,
    reform: &Engine,
    household: &(impl HouseholdInput + ?Sized),
    opts: &Options,
) -> Result<(Assessment, Assessment)> {
    // Read once (text through the fast reader), evaluated under both sides; the reform
    // checks its own regions.
    let h = batch::guarded(|| baseline.read_input(household, opts))?;
    batch::guarded(|| Ok((baseline.evaluate_read(&h, opts)?, reform.evaluate_household(&h, opts)?)))
}

/// [`evaluate_pair`] as a comparison reads it: the programs decided, not rendered.
fn decide_pair<'a>(
    engines: &Sides<&Engine>,
    ids: &Sides<Vec<&'a str>>,
    household: &(impl HouseholdInput + ?Sized),
    opts: &Options,
) -> Result<Pair<'a>> {
    let h = batch::guarded(|| engines.baseline.read_input(household, opts))?;
    batch::guarded(|| {
        let b = engines.baseline.decide_read(std::borrow::Cow::Borrowed(&h), opts)?;
        let r = engines.reform.decide_household(&h, opts)?;
        Ok(Pair::of_decisions(ids, &b, &r))
    })
}

/// Each side's program ids, in run order.
fn program_ids<'a>(baseline: &'a Engine, reform: &'a Engine) -> Sides<Vec<&'a str>> {
    Sides {
        baseline: baseline.program_ids(),
        reform: reform.program_ids(),
    }
}

/// A comparison reads statuses and amounts only: no reason's message is filled.
fn without_messages(opts: &Options) -> Options {
    Options { messages: false, ..opts.clone() }
}

/// Compares the households of any iterator (JSON texts or values), evaluating chunks of
/// them in parallel on every core; memory holds one chunk, the aggregates and the top
/// changes.
pub fn compare<I>(baseline: &Engine, reform: &Engine, households: I, opts: &Options) -> Comparison
where
    I: IntoIterator,
    I::Item: HouseholdInput + Sync,
{
    let opts = &without_messages(opts);
    let workers = Workers::new(None);
    let mut acc = Accumulator::new(baseline, reform);
    let (engines, ids) = (Sides { baseline, reform }, program_ids(baseline, reform));
    let mut it = households.into_iter();
    loop {
        let chunk: Vec<I::Item> = it.by_ref().take(batch::CHUNK_LINES).collect();
        if chunk.is_empty() {
            break;
        }
        for r in workers.map(&chunk, |h| decide_pair(&engines, &ids, h, opts)) {
            acc.add_pair_result(&r);
        }
    }
    acc.finish()
}

/// Compares the households of a JSON-lines input (a blank or malformed line counts as
/// an error), on `threads` threads in the batch's pipeline ([`batch::batch_stream`]:
/// reading, evaluating and folding overlap); `progress` is called after each piece of a
/// few hundred lines with its error records. Only an I/O error of the reader ends it
/// early.
pub fn compare_lines<R: BufRead>(
    baseline: &Engine,
    reform: &Engine,
    reader: R,
    opts: &Options,
    threads: Option<usize>,
    mut progress: impl FnMut(&Progress),
) -> io::Result<Comparison> {
    let opts = &without_messages(opts);
    let mut lines = LineReader::new(reader);
    let mut acc = Accumulator::new(baseline, reform);
    let (engines, ids) = (Sides { baseline, reform }, program_ids(baseline, reform));
    let work = |piece: &[Line]| -> Vec<std::result::Result<Pair<'_>, ErrorRecord>> {
        piece.iter().map(|line| pair_of_line(&engines, &ids, line, opts)).collect()
    };
    let mut done = 0u64;
    batch::for_each_piece(&mut lines, threads, &batch::TUNING, &work, |results, bytes_read| {
        let mut chunk_errors = Vec::new();
        for r in results {
            done += 1;
            match r {
                Ok(pair) => acc.add_pair(&pair),
                Err(rec) => {
                    acc.add_error();
                    chunk_errors.push(rec);
                }
            }
        }
        progress(&Progress {
            lines: done,
            errors: acc.errors,
            bytes: bytes_read,
            chunk_errors: &chunk_errors,
        });
        Ok(())
    })?;
    Ok(acc.finish())
}

fn pair_of_line<'a>(
    engines: &Sides<&Engine>,
    ids: &Sides<Vec<&'a str>>,
    line: &Line,
    opts: &Options,
) -> std::result::Result<Pair<'a>, ErrorRecord> {
    let Sides { baseline, reform } = *engines;
    let (id, household) = batch::read_line(baseline, line, opts);
    let h = household.map_err(|e| ErrorRecord::new(line.number, id.clone(), &e))?;
    let b = batch::guarded(|| baseline.decide_read(std::borrow::Cow::Borrowed(&h), opts))
        .map_err(|e| ErrorRecord::new(line.number, id.clone(), &e))?;
    // An error under the reform only says so (the household itself is fine).
    let r = batch::guarded(|| reform.decide_household(&h, opts)).map_err(|e| {
        let mut rec = ErrorRecord::new(line.number, id, &e);
        for f in &mut rec.errors {
            f.message = format!("under the reform: {}", f.message);
        }
        rec
    })?;
    Ok(Pair::of_decisions(ids, &b, &r))
}
