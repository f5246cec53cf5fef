//! Many households at once.
//!
//! * [`Engine::evaluate_many`]: a slice of households (JSON text or parsed values) in,
//!   one result per household out, in order, evaluated in parallel with rayon when the
//!   `parallel` feature is on (the default; the wasm build turns it off and gets the
//!   same results sequentially).
//! * [`batch_stream`]: JSON lines in, JSON lines out, memory bounded whatever the size
//!   of the input: a pipeline in which the calling thread reads pieces of a few hundred
//!   lines, it and the worker threads evaluate them, and the calling thread writes their
//!   output in input order as it comes, with a bounded number of pieces (and at most
//!   [`CHUNK_BYTES`] bytes of input) in flight. Every input line gives exactly one
//!   output line: the assessment (the compact JSON of [`Assessment::to_json`], byte for
//!   byte what `jiuzhu evaluate` prints) or an [`ErrorRecord`] `{"line", "id",
//!   "errors"}`. A bad line never stops the batch.
//!
//! The pieces the streaming functions are built from ([`LineReader`], [`Workers`],
//! [`evaluate_line`], [`BatchSummary`]) are public so that other doors (`compare`,
//! Python) reuse them rather than re-implement them.

use crate::error::FieldError;
use crate::household;
use crate::money::Money;
use crate::{Assessment, Engine, Error, Household, Options, Result};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::io::{self, BufRead, Write};

/// Lines evaluated together (in parallel) before their output is written, by the
/// chunked doors (`compare`); [`batch_stream`] works in smaller pieces, see its documentation.
pub const CHUNK_LINES: usize = 2048;
/// A chunk also ends once its lines hold this many bytes (and [`batch_stream`] never has
/// more than this many bytes of input in flight).
pub const CHUNK_BYTES: usize = 32 << 20;
/// A longer line is not kept in memory: it becomes an error record (the limit is the
/// one on a household document).
pub const MAX_LINE_BYTES: usize = household::parse::MAX_DOCUMENT_BYTES;

// ---------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------

/// A household as JSON text or as an already parsed JSON value (parsed with exact
/// numbers, as [`household::parse_household_text`] does).
pub trait HouseholdInput {
    /// The JSON value, parsed if need be; a parse failure is a validation error.
    fn to_value(&self) -> Result<Cow<'_, Value>>;
    /// The JSON text, when the household is text: it then goes through
    /// [`Engine::evaluate_str`] and its fast reader instead of a JSON value.
    fn as_text(&self) -> Option<&str> {
        None
    }
}

impl HouseholdInput for str {
    fn to_value(&self) -> Result<Cow<'_, Value>> {
        household::parse_household_text(self)
            .map(Cow::Owned)
            .map_err(Error::Validation)
    }
    fn as_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl HouseholdInput for String {
    fn to_value(&self) -> Result<Cow<'_, Value>> {
        self.as_str().to_value()
    }
    fn as_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl HouseholdInput for Value {
    fn to_value(&self) -> Result<Cow<'_, Value>> {
        Ok(Cow::Borrowed(self))
    }
}

impl<T: HouseholdInput + ?Sized> HouseholdInput for &T {
    fn to_value(&self) -> Result<Cow<'_, Value>> {
        (**self).to_value()
    }
    fn as_text(&self) -> Option<&str> {
        (**self).as_text()
    }
}

/// The household's `id` when the document has a string there (for error records).
pub fn id_of(v: &Value) -> Option<String> {
    v.get("id").and_then(Value::as_str).map(str::to_string)
}

/// Runs `f`, turning a panic (a bug: the engine is meant never to panic) into an error
/// for this one household, so that one bad record cannot end a batch of millions.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Error::Internal(format!("while evaluating this household: {what}")))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Workers: rayon when available, a plain loop otherwise
// ---------------------------------------------------------------------------------------

/// How many threads evaluate: all cores (rayon's global pool), a pool of its own, or
/// the calling thread only. Without the `parallel` feature, always the calling thread.
pub struct Workers {
    inner: Inner,
}

enum Inner {
    Sequential,
    #[cfg(feature = "parallel")]
    Global,
    #[cfg(feature = "parallel")]
    Pool(rayon::ThreadPool),
}

impl Workers {
    /// `None` or `Some(0)`: every core; `Some(1)`: the calling thread; `Some(n)`: n threads.
    pub fn new(threads: Option<usize>) -> Workers {
        #[cfg(feature = "parallel")]
        {
            let inner = match threads {
                Some(1) => Inner::Sequential,
                None | Some(0) => Inner::Global,
                Some(n) => match rayon::ThreadPoolBuilder::new().num_threads(n).build() {
                    Ok(pool) => Inner::Pool(pool),
                    Err(_) => Inner::Global,
                },
            };
            Workers { inner }
        }
        #[cfg(not(feature = "parallel"))]
        {
            let _ = threads;
            Workers {
                inner: Inner::Sequential,
            }
        }
    }

    /// The number of threads that evaluate.
    pub fn threads(&self) -> usize {
        match &self.inner {
            Inner::Sequential => 1,
            #[cfg(feature = "parallel")]
            Inner::Global => rayon::current_num_threads(),
            #[cfg(feature = "parallel")]
            Inner::Pool(p) => p.current_num_threads(),
        }
    }

    /// `f` over `items`, the results in the order of the items.
    pub fn map<T, R, F>(&self, items: &[T], f: F) -> Vec<R>
    where
        T: Sync,
        R: Send,
        F: Fn(&T) -> R + Sync + Send,
    {
        match &self.inner {
            Inner::Sequential => items.iter().map(f).collect(),
            #[cfg(feature = "parallel")]
            Inner::Global => {
                use rayon::prelude::*;
                items.par_iter().map(f).collect()
            }
            #[cfg(feature = "parallel")]
            Inner::Pool(pool) => {
                use rayon::prelude::*;
                pool.install(|| items.par_iter().map(&f).collect())
            }
        }
    }
}

impl Engine {
    /// Evaluates every household, in parallel (see [`Workers::new`] for `threads`); one
    /// result per household, in the order given. An error concerns its own household only.
    ///
    /// ```
    /// use jiuzhu_core::{Engine, Options};
    /// let engine = Engine::new().unwrap();
    /// let ok = r#"{"id": "A", "region": "310000", "as_of": "2025-03-01",
    ///   "members": [{"id": "m1", "relation": "head", "birth_date": "1960-01-01", "sex": "female"}]}"#;
    /// let results = engine.evaluate_many(&[ok, "{not json"], &Options::default(), None);
    /// assert_eq!(results[0].as_ref().unwrap().household_id, "A");
    /// assert!(results[1].is_err());
    /// ```
    pub fn evaluate_many<T>(
        &self,
        items: &[T],
        opts: &Options,
        threads: Option<usize>,
    ) -> Vec<Result<Assessment>>
    where
        T: HouseholdInput + Sync,
    {
        Workers::new(threads).map(items, |item| guarded(|| self.evaluate_input(item, opts)))
    }

    /// [`Engine::evaluate_many`] up to the decisions, to render afterwards (into any
    /// [`crate::render::Sink`]).
    pub fn decide_many<T>(&self, items: &[T], opts: &Options, threads: Option<usize>) -> Vec<Result<crate::render::Decision<'_>>>
    where
        T: HouseholdInput + Sync,
    {
        Workers::new(threads).map(items, |item| guarded(|| self.decide_input(item, opts)))
    }

    /// The households of `items` no other caller has taken, each decided as
    /// [`Engine::decide_many`] does: the caller takes the next position from `cursor`
    /// until none is left, and gets its decisions with their positions. Threads sharing
    /// one cursor share the work whatever else each of them has to do first (the
    /// Python binding's calling thread joins in once it has made the slice before into
    /// Python objects).
    pub fn decide_from<T>(&self, items: &[T], opts: &Options, cursor: &std::sync::atomic::AtomicUsize) -> Vec<(usize, Result<crate::render::Decision<'_>>)>
    where
        T: HouseholdInput + Sync,
    {
        let mut out = Vec::new();
        loop {
            let i = cursor.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(item) = items.get(i) else { return out };
            out.push((i, guarded(|| self.decide_input(item, opts))));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Lines
// ---------------------------------------------------------------------------------------

/// One line of a JSON-lines input.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// 1-based line number.
    pub number: u64,
    /// The text without its line ending, or why it could not be kept (not UTF-8, too long).
    pub text: std::result::Result<String, String>,
}

/// Reads JSON lines one at a time with bounded memory: a line longer than
/// [`MAX_LINE_BYTES`] is skipped (and reported as such), not buffered. `\n` and `\r\n`
/// endings are accepted, a final line without an ending is a line, and a byte-order
/// mark at the start of the input is ignored.
pub struct LineReader<R> {
    inner: R,
    number: u64,
    bytes: u64,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R) -> Self {
        LineReader {
            inner,
            number: 0,
            bytes: 0,
        }
    }

    /// Bytes consumed so far (line endings included).
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The next line, `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<Line>> {
        let mut buf: Vec<u8> = Vec::new();
        let mut started = false;
        let mut too_long = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                if !started {
                    return Ok(None);
                }
                break;
            }
            started = true;
            // memchr: a line is a kilobyte or two, and the reader thread of a batch
            // scans every byte of the input while the workers evaluate.
            let (take, consume, end) = match memchr::memchr(b'\n', available) {
                Some(i) => (i, i + 1, true),
                None => (available.len(), available.len(), false),
            };
            if !too_long {
                if buf.len() + take > MAX_LINE_BYTES {
                    too_long = true;
                    buf = Vec::new();
                } else {
                    if buf.is_empty() {
                        buf.reserve_exact(take);
                    }
                    buf.extend_from_slice(&available[..take]);
                }
            }
            self.inner.consume(consume);
            self.bytes += consume as u64;
            if end {
                break;
            }
        }
        self.number += 1;
        let number = self.number;
        if too_long {
            return Ok(Some(Line {
                number,
                text: Err(format!("line longer than {MAX_LINE_BYTES} bytes")),
            }));
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        if number == 1 && buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
            buf.drain(..3);
        }
        let text = String::from_utf8(buf).map_err(|e| {
            format!(
                "line is not valid UTF-8 (byte {})",
                e.utf8_error().valid_up_to() + 1
            )
        });
        Ok(Some(Line { number, text }))
    }

    /// Up to `max_lines` lines holding at most about `max_bytes` bytes (at least one line
    /// unless the input is exhausted); empty at the end of the input.
    pub fn next_chunk(&mut self, max_lines: usize, max_bytes: usize) -> io::Result<Vec<Line>> {
        let mut lines = Vec::new();
        let mut bytes = 0usize;
        while lines.len() < max_lines.max(1) && bytes < max_bytes.max(1) {
            match self.next_line()? {
                Some(line) => {
                    bytes += line.text.as_ref().map(|t| t.len()).unwrap_or(0) + 1;
                    lines.push(line);
                }
                None => break,
            }
        }
        Ok(lines)
    }
}

/// The error line of a batch for an input line that did not give an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorRecord {
    /// 1-based input line number.
    pub line: u64,
    /// The household's id when the line had one (`null` otherwise).
    pub id: Option<String>,
    pub errors: Vec<FieldError>,
}

impl ErrorRecord {
    pub fn new(line: u64, id: Option<String>, error: &Error) -> Self {
        ErrorRecord {
            line,
            id,
            errors: error.field_errors(),
        }
    }
    /// Compact JSON, one line.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(256);
        self.write_json(&mut out);
        String::from_utf8(out).expect("JSON is UTF-8")
    }

    /// Appends [`ErrorRecord::to_json`] to `out`, without a line ending.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let start = out.len();
        if serde_json::to_writer(&mut *out, self).is_err() {
            out.truncate(start);
            let fallback = format!("{{\"line\":{},\"id\":null,\"errors\":[]}}", self.line);
            out.extend_from_slice(fallback.as_bytes());
        }
    }
}

/// Reads one line: the household, and its `id` (when the line is JSON with a string
/// there) for an error record. A valid household goes straight from text to `Household`
/// (the fast reader); anything else takes the full path, which reports every error.
pub fn read_line(engine: &Engine, line: &Line, opts: &Options) -> (Option<String>, Result<Household>) {
    let text = match &line.text {
        Ok(t) => t,
        Err(m) => return (None, Err(Error::validation("", m.clone()))),
    };
    if let Some(h) = engine.read_fast(text, opts) {
        let checked = engine.check_region(&h.region);
        return (Some(h.id.clone()), checked.map(|()| h));
    }
    let value = match text.as_str().to_value() {
        Ok(v) => v,
        Err(e) => return (None, Err(e)),
    };
    (id_of(&value), guarded(|| engine.read_full(&value, opts)))
}

/// Reads and evaluates one line; the id as [`read_line`] gives it.
pub fn evaluate_line(engine: &Engine, line: &Line, opts: &Options) -> (Option<String>, Result<Assessment>) {
    let (id, household) = read_line(engine, line, opts);
    (id, household.and_then(|h| guarded(|| engine.evaluate_read(&h, opts))))
}

// ---------------------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------------------

/// What a batch paid, per program: households with status `eligible` and the sum of
/// their amounts by period (`review` and `ineligible` amounts are not counted).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProgramSummary {
    pub recipients: u64,
    /// Households whose status is `review` (a caseworker decides).
    pub review: u64,
    /// Period (`monthly`, `one_off`, `annual`) → sum of eligible amounts.
    pub amounts: IndexMap<String, Money>,
}

/// Counts and totals of a batch.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BatchSummary {
    /// Input lines.
    pub records: u64,
    /// Lines that gave an assessment.
    pub assessed: u64,
    /// Lines that gave an error record.
    pub errors: u64,
    /// By program, in run order.
    pub programs: IndexMap<String, ProgramSummary>,
    /// The sum of every assessment's `totals`.
    pub totals: crate::Totals,
}

impl BatchSummary {
    /// An empty summary listing the engine's programs in run order.
    pub fn new(engine: &Engine) -> Self {
        let programs = engine
            .program_ids()
            .into_iter()
            .map(|p| (p.to_string(), ProgramSummary::default()))
            .collect();
        BatchSummary {
            programs,
            ..Default::default()
        }
    }

    pub fn add(&mut self, a: &Assessment) {
        let programs = a.programs.iter().map(|(id, p)| (id.as_str(), p.status, p.period, p.amount.0));
        self.add_programs(programs, [a.totals.monthly.0, a.totals.one_off.0, a.totals.annual.0]);
    }

    /// [`BatchSummary::add`] for an assessment written without being built.
    pub(crate) fn add_decision<O: std::ops::Deref<Target = [crate::script::Outcome]>>(&mut self, d: &crate::render::Decision<'_, O>) {
        let programs = d.programs().map(|(id, o)| (id, o.status.as_str(), o.period.as_str(), o.amount));
        self.add_programs(programs, d.totals);
    }

    /// Adds one assessment: each program's (id, status, period, amount), and the totals
    /// (monthly, one-off, annual).
    fn add_programs<'a>(&mut self, programs: impl Iterator<Item = (&'a str, &'a str, &'a str, rust_decimal::Decimal)>, totals: [rust_decimal::Decimal; 3]) {
        self.records += 1;
        self.assessed += 1;
        for (i, (id, status, period, amount)) in programs.enumerate() {
            // Programs come in the same order every time: found by position, not hashed.
            let s = match self.programs.get_index_mut(i) {
                Some((k, s)) if k == id => s,
                _ => self.programs.entry(id.to_string()).or_default(),
            };
            match status {
                "eligible" => {
                    s.recipients += 1;
                    let a = match s.amounts.get_index_mut(0) {
                        Some((k, a)) if k == period => a,
                        _ => s.amounts.entry(period.to_string()).or_default(),
                    };
                    a.0 += amount;
                }
                "review" => s.review += 1,
                _ => {}
            }
        }
        self.totals.monthly.0 += totals[0];
        self.totals.one_off.0 += totals[1];
        self.totals.annual.0 += totals[2];
    }

    pub fn add_error(&mut self) {
        self.records += 1;
        self.errors += 1;
    }

    /// Adds the counts of a later part of the same batch: as if its records had been
    /// added here one by one (programs and periods keep their order of first appearance).
    pub fn merge(&mut self, other: BatchSummary) {
        self.records += other.records;
        self.assessed += other.assessed;
        self.errors += other.errors;
        for (id, p) in other.programs {
            let s = self.programs.entry(id).or_default();
            s.recipients += p.recipients;
            s.review += p.review;
            for (period, amount) in p.amounts {
                s.amounts.entry(period).or_default().0 += amount.0;
            }
        }
        self.totals.monthly.0 += other.totals.monthly.0;
        self.totals.one_off.0 += other.totals.one_off.0;
        self.totals.annual.0 += other.totals.annual.0;
    }
}

/// Where a stream is, reported after each chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress<'a> {
    /// Lines done.
    pub lines: u64,
    /// Of which errors.
    pub errors: u64,
    /// Input bytes consumed.
    pub bytes: u64,
    /// The error records of the chunk just done.
    pub chunk_errors: &'a [ErrorRecord],
}

// ---------------------------------------------------------------------------------------
// The streaming pipeline
// ---------------------------------------------------------------------------------------

/// Lines in one piece of work of [`batch_stream`]'s pipeline: small, so that the
/// workers stay evenly loaded up to the last line, large enough that handing pieces
/// around costs nothing next to evaluating them.
const PIPE_CHUNK_LINES: usize = 256;
/// A piece also ends once its lines hold this many bytes.
const PIPE_CHUNK_BYTES: usize = 4 << 20;
/// Pieces read but not yet written, per worker: enough that a worker never waits for the
/// reader or for a slow piece ahead of it to be written.
const PIPE_PIECES_PER_WORKER: usize = 4;
/// Input bytes read but not yet written, at most (a piece is always let in when nothing
/// is in flight, so that a line of any allowed length goes through): the memory of the
/// pipeline stays that of one [`CHUNK_BYTES`] chunk whatever the input.
const PIPE_BYTES_IN_FLIGHT: usize = CHUNK_BYTES;
/// Stack of a pipeline worker (as the main thread's: a deep household must not overflow it).
#[cfg(feature = "parallel")]
const PIPE_WORKER_STACK: usize = 8 << 20;

/// The sizes of the pipeline (tests make them tiny).
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "parallel"), allow(dead_code))]
pub(crate) struct Tuning {
    piece_lines: usize,
    piece_bytes: usize,
    pieces_per_worker: usize,
    bytes_in_flight: usize,
}

pub(crate) const TUNING: Tuning = Tuning {
    piece_lines: PIPE_CHUNK_LINES,
    piece_bytes: PIPE_CHUNK_BYTES,
    pieces_per_worker: PIPE_PIECES_PER_WORKER,
    bytes_in_flight: PIPE_BYTES_IN_FLIGHT,
};

/// A piece read, to be evaluated.
#[cfg_attr(not(feature = "parallel"), allow(dead_code))]
struct Piece {
    seq: u64,
    lines: Vec<Line>,
    /// Input bytes its lines hold (for the in-flight budget).
    size: usize,
    /// Input bytes consumed once it was read (for the progress).
    bytes_read: u64,
}

/// A piece done: what the work made of its lines.
#[cfg_attr(not(feature = "parallel"), allow(dead_code))]
struct Done<T> {
    seq: u64,
    value: T,
    size: usize,
    bytes_read: u64,
}

/// A piece of a batch evaluated: its output lines, ready to be written as they are.
struct Written {
    out: Vec<u8>,
    summary: BatchSummary,
    errors: Vec<ErrorRecord>,
}

/// Evaluates one line and appends its output line (assessment or error record, and
/// `\n`) to `out`, counting it in `summary`. A panic while evaluating or writing the
/// assessment is an error record of this line.
fn process_line(
    engine: &Engine,
    line: &Line,
    opts: &Options,
    out: &mut Vec<u8>,
    summary: &mut BatchSummary,
    errors: &mut Vec<ErrorRecord>,
) {
    let start = out.len();
    let (id, household) = read_line(engine, line, opts);
    // Written as rendered (the bytes of `evaluate_line`'s assessment's `write_json`).
    let result = household.and_then(|h| {
        guarded(|| {
            let d = engine.decide_read(std::borrow::Cow::Owned(h), opts)?;
            d.write_json(&mut *out);
            summary.add_decision(&d);
            Ok(())
        })
    });
    match result {
        Ok(()) => {}
        Err(e) => {
            out.truncate(start);
            let rec = ErrorRecord::new(line.number, id, &e);
            rec.write_json(out);
            summary.add_error();
            errors.push(rec);
        }
    }
    out.push(b'\n');
}

/// Evaluates the lines of a piece, in order, into their output lines.
fn write_lines(engine: &Engine, lines: &[Line], opts: &Options) -> Written {
    // About 4 KB of output per household; grown if need be.
    let mut out = Vec::with_capacity(lines.len() * 4096);
    let mut summary = BatchSummary::new(engine);
    let mut errors = Vec::new();
    for line in lines {
        process_line(engine, line, opts, &mut out, &mut summary, &mut errors);
    }
    Written { out, summary, errors }
}

/// Does the work of a piece (on whichever thread took it).
fn process_piece<T>(piece: Piece, work: &impl Fn(&[Line]) -> T) -> Done<T> {
    Done {
        seq: piece.seq,
        value: work(&piece.lines),
        size: piece.size,
        bytes_read: piece.bytes_read,
    }
}

/// Reads the next piece, `None` at the end of the input.
fn read_piece<R: BufRead>(
    lines: &mut LineReader<R>,
    seq: u64,
    tuning: &Tuning,
) -> io::Result<Option<Piece>> {
    let chunk = lines.next_chunk(tuning.piece_lines, tuning.piece_bytes)?;
    if chunk.is_empty() {
        return Ok(None);
    }
    let size = chunk
        .iter()
        .map(|l| l.text.as_ref().map(|t| t.len()).unwrap_or(0) + 1)
        .sum();
    Ok(Some(Piece {
        seq,
        lines: chunk,
        size,
        bytes_read: lines.bytes_read(),
    }))
}

/// Writes an evaluated piece, folds its counts into the summary and reports progress
/// (`bytes_read`: the input consumed once the piece was read).
fn write_piece<W: Write>(
    piece: Written,
    bytes_read: u64,
    writer: &mut W,
    summary: &mut BatchSummary,
    progress: &mut impl FnMut(&Progress),
) -> io::Result<()> {
    writer.write_all(&piece.out)?;
    summary.merge(piece.summary);
    progress(&Progress {
        lines: summary.records,
        errors: summary.errors,
        bytes: bytes_read,
        chunk_errors: &piece.errors,
    });
    Ok(())
}

/// Evaluates JSON lines from `reader` and writes one line per input line to `writer`
/// (see the module documentation); `progress` is called after each chunk. Only an I/O
/// error of the reader or the writer ends it early.
///
/// With more than one thread this is a pipeline: the calling thread reads pieces of a
/// few hundred lines into a queue; it and `threads - 1` worker threads take them in turn,
/// evaluate them and write their output lines into a buffer each; the calling thread
/// writes those buffers in input order as they come, while the workers go on. Reading,
/// evaluating and writing overlap, and the pieces in flight are bounded (in number and
/// in input bytes), so the memory does not grow with the input. With one thread (or
/// without the `parallel` feature) the same pieces are evaluated one after the other on
/// the calling thread: the output is the same, byte for byte.
pub fn batch_stream<R, W>(
    engine: &Engine,
    reader: R,
    writer: W,
    opts: &Options,
    threads: Option<usize>,
    progress: impl FnMut(&Progress),
) -> io::Result<BatchSummary>
where
    R: BufRead,
    W: Write,
{
    batch_stream_tuned(engine, reader, writer, opts, threads, progress, &TUNING)
}

fn batch_stream_tuned<R, W>(
    engine: &Engine,
    reader: R,
    mut writer: W,
    opts: &Options,
    threads: Option<usize>,
    mut progress: impl FnMut(&Progress),
    tuning: &Tuning,
) -> io::Result<BatchSummary>
where
    R: BufRead,
    W: Write,
{
    let mut lines = LineReader::new(reader);
    let mut summary = BatchSummary::new(engine);
    for_each_piece(
        &mut lines,
        threads,
        tuning,
        &|lines: &[Line]| write_lines(engine, lines, opts),
        |piece, bytes_read| write_piece(piece, bytes_read, &mut writer, &mut summary, &mut progress),
    )?;
    writer.flush()?;
    Ok(summary)
}

/// The engine of [`batch_stream`], for any work on lines: reads `lines` in pieces,
/// does `work` on each (on `threads` threads, see [`batch_stream`]) and hands each
/// piece's result to `deliver` on the calling thread, in input order, with the input
/// bytes consumed once the piece was read. Ends at the end of the input, at a read
/// error (after delivering what was read before it) or at `deliver`'s first error.
pub(crate) fn for_each_piece<R, T, F>(
    lines: &mut LineReader<R>,
    threads: Option<usize>,
    tuning: &Tuning,
    work: &F,
    mut deliver: impl FnMut(T, u64) -> io::Result<()>,
) -> io::Result<()>
where
    R: BufRead,
    T: Send,
    F: Fn(&[Line]) -> T + Sync,
{
    #[cfg(feature = "parallel")]
    {
        let workers = worker_count(threads);
        if workers > 1 {
            return pipeline(lines, workers, tuning, work, &mut deliver);
        }
    }
    #[cfg(not(feature = "parallel"))]
    let _ = threads;
    sequential(lines, tuning, work, &mut deliver)
}

/// The threads that evaluate for `threads` (as [`Workers::new`] counts them).
#[cfg(feature = "parallel")]
fn worker_count(threads: Option<usize>) -> usize {
    match threads {
        None | Some(0) => rayon::current_num_threads().max(1),
        Some(n) => n,
    }
}

/// Does every piece on the calling thread, one after the other.
fn sequential<R: BufRead, T>(
    lines: &mut LineReader<R>,
    tuning: &Tuning,
    work: &impl Fn(&[Line]) -> T,
    deliver: &mut impl FnMut(T, u64) -> io::Result<()>,
) -> io::Result<()> {
    let mut seq = 0;
    while let Some(piece) = read_piece(lines, seq, tuning)? {
        seq += 1;
        let done = process_piece(piece, work);
        deliver(done.value, done.bytes_read)?;
    }
    Ok(())
}

/// The pieces read and not yet taken by a thread that evaluates. Workers wait on it
/// without holding its lock, so the calling thread can always take a piece itself.
#[cfg(feature = "parallel")]
struct Queue {
    state: std::sync::Mutex<QueueState>,
    filled: std::sync::Condvar,
}

#[cfg(feature = "parallel")]
#[derive(Default)]
struct QueueState {
    pieces: std::collections::VecDeque<Piece>,
    closed: bool,
}

#[cfg(feature = "parallel")]
impl Queue {
    fn new() -> Queue {
        Queue {
            state: std::sync::Mutex::new(QueueState::default()),
            filled: std::sync::Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        // Nothing panics while holding the lock; a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, piece: Piece) {
        self.lock().pieces.push_back(piece);
        self.filled.notify_one();
    }

    /// The oldest piece, if one is waiting.
    fn try_pop(&self) -> Option<Piece> {
        self.lock().pieces.pop_front()
    }

    /// The oldest piece, waiting for one; `None` once the queue is closed.
    fn pop(&self) -> Option<Piece> {
        let mut state = self.lock();
        loop {
            if state.closed {
                return None;
            }
            if let Some(piece) = state.pieces.pop_front() {
                return Some(piece);
            }
            state = self.filled.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// No piece is given out any more (those waiting are dropped): each worker ends
    /// after the piece it holds.
    fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.pieces.clear();
        drop(state);
        self.filled.notify_all();
    }
}

/// Closes the queue however the calling thread leaves the pipeline (a panic included),
/// so that the scope's join never waits on a worker that waits for a piece.
#[cfg(feature = "parallel")]
struct CloseOnDrop<'a>(&'a Queue);

#[cfg(feature = "parallel")]
impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The pipeline of [`batch_stream`]: `workers` threads evaluate, the calling thread among
/// them; the calling thread also reads and writes, in input order.
///
/// Why the calling thread evaluates too, rather than only reading and writing for
/// `workers` threads of its own: on a machine with as many cores as workers, a reading
/// thread of its own competes with them for a core, and the batch then cost about 15 %
/// more CPU than the same households on one thread (docs/performance.md, fifteenth and
/// sixteenth sessions). Reading and writing take a few percent of the time; the calling
/// thread does them between its own pieces, keeping enough pieces queued that the other
/// workers never wait for it.
#[cfg(feature = "parallel")]
fn pipeline<R, T, F>(
    lines: &mut LineReader<R>,
    workers: usize,
    tuning: &Tuning,
    work: &F,
    deliver: &mut impl FnMut(T, u64) -> io::Result<()>,
) -> io::Result<()>
where
    R: BufRead,
    T: Send,
    F: Fn(&[Line]) -> T + Sync,
{
    use std::sync::mpsc;

    let max_pieces = (workers * tuning.pieces_per_worker).max(1);
    let queue = Queue::new();
    let (done_tx, done_rx) = mpsc::channel::<std::thread::Result<Done<T>>>();

    std::thread::scope(|scope| {
        let _close = CloseOnDrop(&queue);
        for i in 1..workers {
            let done_tx = done_tx.clone();
            let queue = &queue;
            let spawned = std::thread::Builder::new()
                .name(format!("jiuzhu-batch-{i}"))
                .stack_size(PIPE_WORKER_STACK)
                .spawn_scoped(scope, move || {
                    while let Some(piece) = queue.pop() {
                        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            process_piece(piece, work)
                        }));
                        if done_tx.send(done).is_err() {
                            return;
                        }
                    }
                });
            if spawned.is_err() {
                break; // Fewer workers than asked: the calling thread still evaluates.
            }
        }
        drop(done_tx);
        let pipe = Pipe { work, queue: &queue, done_rx: &done_rx, max_pieces, tuning };
        pipe.drive(lines, deliver)
        // `_close` ends the workers on every way out, an error or a panic included.
    })
}

/// What the calling thread of a pipeline works with.
#[cfg(feature = "parallel")]
struct Pipe<'a, T, F> {
    work: &'a F,
    queue: &'a Queue,
    done_rx: &'a std::sync::mpsc::Receiver<std::thread::Result<Done<T>>>,
    /// Pieces read but not yet written, at most.
    max_pieces: usize,
    tuning: &'a Tuning,
}

#[cfg(feature = "parallel")]
impl<T, F: Fn(&[Line]) -> T> Pipe<'_, T, F> {
    /// Files an evaluated piece; a panic outside every household's guard (a bug) is not hidden.
    fn accept(done: std::thread::Result<Done<T>>, ready: &mut std::collections::BTreeMap<u64, Done<T>>) {
        match done {
            Ok(d) => {
                ready.insert(d.seq, d);
            }
            Err(payload) => std::panic::resume_unwind(payload),
        }
    }

    /// In turn: writes the pieces evaluated, in input order; reads pieces while fewer
    /// than `max_pieces` (and fewer than the tuning's bytes) are in flight; evaluates the
    /// oldest piece no worker has taken; and when there is none, waits for a worker's.
    /// On a read error, what was read before it is still written; on a write error it
    /// stops.
    fn drive<R: BufRead>(&self, lines: &mut LineReader<R>, deliver: &mut impl FnMut(T, u64) -> io::Result<()>) -> io::Result<()> {
        use std::collections::BTreeMap;

        let mut reading = true;
        let mut read_error: Option<io::Error> = None;
        let (mut next_read, mut next_write) = (0u64, 0u64);
        let mut bytes_in_flight = 0usize;
        let mut ready: BTreeMap<u64, Done<T>> = BTreeMap::new();
        loop {
            while let Ok(done) = self.done_rx.try_recv() {
                Self::accept(done, &mut ready);
            }
            while let Some(done) = ready.remove(&next_write) {
                next_write += 1;
                bytes_in_flight -= done.size;
                deliver(done.value, done.bytes_read)?;
            }
            while reading {
                let in_flight = (next_read - next_write) as usize;
                let room = in_flight == 0
                    || (in_flight < self.max_pieces && bytes_in_flight < self.tuning.bytes_in_flight);
                if !room {
                    break;
                }
                match read_piece(lines, next_read, self.tuning) {
                    Ok(Some(piece)) => {
                        next_read += 1;
                        bytes_in_flight += piece.size;
                        self.queue.push(piece);
                    }
                    Ok(None) => reading = false,
                    Err(e) => {
                        read_error = Some(e);
                        reading = false;
                    }
                }
            }
            if let Some(piece) = self.queue.try_pop() {
                let done = process_piece(piece, self.work);
                ready.insert(done.seq, done);
                continue;
            }
            if next_write == next_read {
                break; // Nothing in flight and nothing more to read.
            }
            match self.done_rx.recv() {
                Ok(done) => Self::accept(done, &mut ready),
                Err(_) => {
                    // No worker left while pieces are in flight: a bug (the calling thread
                    // takes every piece left in the queue, and a worker's panic was passed on).
                    return Err(io::Error::other(
                        "batch: the evaluating threads stopped before the end",
                    ));
                }
            }
        }
        match read_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8]) -> Vec<Line> {
        let mut r = LineReader::new(input);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push(l);
        }
        out
    }

    #[test]
    fn lines_and_endings() {
        let lines = read_all(b"\xEF\xBB\xBFa\r\n\nb");
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].text.as_deref(), Ok("a"));
        assert_eq!(lines[1].text.as_deref(), Ok(""));
        assert_eq!(
            lines[2],
            Line {
                number: 3,
                text: Ok("b".into())
            }
        );
        assert!(read_all(b"").is_empty());
        assert_eq!(read_all(b"x\n").len(), 1);
        let bad = read_all(b"ok\n\xff\xfe\n");
        assert_eq!(
            bad[1].text,
            Err("line is not valid UTF-8 (byte 1)".to_string())
        );
    }

    #[test]
    fn overlong_line_is_skipped_not_kept() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\nnext\n");
        let lines = read_all(&input);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].text.as_ref().unwrap_err().contains("longer than"));
        assert_eq!(lines[1].text.as_deref(), Ok("next"));
    }

    #[test]
    fn chunks_respect_limits() {
        let input = b"1\n2\n3\n4\n5\n";
        let mut r = LineReader::new(&input[..]);
        assert_eq!(r.next_chunk(2, 1000).unwrap().len(), 2);
        assert_eq!(r.next_chunk(100, 3).unwrap().len(), 2);
        assert_eq!(r.next_chunk(100, 1000).unwrap().len(), 1);
        assert!(r.next_chunk(100, 1000).unwrap().is_empty());
        assert_eq!(r.bytes_read(), 10);
    }

    #[test]
    fn workers_keep_order() {
        let items: Vec<u32> = (0..1000).collect();
        for threads in [None, Some(1), Some(3)] {
            let w = Workers::new(threads);
            assert_eq!(
                w.map(&items, |x| x * 2),
                items.iter().map(|x| x * 2).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn a_panic_is_an_error_of_one_household() {
        let r: Result<()> = guarded(|| panic!("boom"));
        assert!(r.unwrap_err().to_string().contains("boom"));
    }

    // --- the pipeline of batch_stream ---------------------------------------------------

    fn engine() -> Engine {
        Engine::new().expect("the embedded pack loads")
    }

    fn opts() -> Options {
        Options {
            default_as_of: crate::parse_date("2025-03-01"),
            ..Options::default()
        }
    }

    /// Synthetic households with bad lines among them (not JSON, empty, not UTF-8, an
    /// invalid household with an id), and no final line ending.
    fn mixed_input(engine: &Engine, n: usize) -> Vec<u8> {
        let date = crate::parse_date("2025-03-01").unwrap();
        let good: Vec<String> = crate::synth::synth(engine, n, 7, None, date)
            .expect("synth")
            .collect();
        let mut input = Vec::new();
        for (i, line) in good.iter().enumerate() {
            match i % 9 {
                2 => input.extend_from_slice(b"{not json\n"),
                4 => input.extend_from_slice(b"\n"),
                5 => input.extend_from_slice(b"\xff\xfe oops\r\n"),
                7 => input.extend_from_slice(br#"{"id": "BAD-1", "region": "nowhere"}"#),
                _ => {}
            }
            if i % 9 == 7 {
                input.push(b'\n');
            }
            input.extend_from_slice(line.as_bytes());
            input.push(b'\n');
        }
        input.extend_from_slice(b"{\"last\": true}");
        input
    }

    struct Run {
        out: String,
        summary: BatchSummary,
        progress_lines: Vec<u64>,
        progress_errors: Vec<u64>,
    }

    fn run(engine: &Engine, input: &[u8], threads: Option<usize>, tuning: &Tuning) -> Run {
        let mut out = Vec::new();
        let (mut progress_lines, mut progress_errors) = (Vec::new(), Vec::new());
        let summary = batch_stream_tuned(
            engine,
            input,
            &mut out,
            &opts(),
            threads,
            |p| {
                progress_lines.push(p.lines);
                progress_errors.extend(p.chunk_errors.iter().map(|e| e.line));
            },
            tuning,
        )
        .expect("no I/O error");
        Run {
            out: String::from_utf8(out).expect("UTF-8 output"),
            summary,
            progress_lines,
            progress_errors,
        }
    }

    const TINY: Tuning = Tuning {
        piece_lines: 1,
        piece_bytes: 1,
        pieces_per_worker: 1,
        bytes_in_flight: 1,
    };
    const SMALL: Tuning = Tuning {
        piece_lines: 3,
        piece_bytes: 1 << 20,
        pieces_per_worker: 2,
        bytes_in_flight: 5000,
    };

    #[test]
    fn pipeline_output_is_the_sequential_output_line_for_line() {
        let engine = engine();
        let input = mixed_input(&engine, 60);
        // What each line gives on its own, in order.
        let mut expected = String::new();
        let mut error_lines = Vec::new();
        let mut reader = LineReader::new(&input[..]);
        while let Some(line) = reader.next_line().unwrap() {
            match evaluate_line(&engine, &line, &opts()) {
                (_, Ok(a)) => expected.push_str(&a.to_json()),
                (id, Err(e)) => {
                    expected.push_str(&ErrorRecord::new(line.number, id, &e).to_json());
                    error_lines.push(line.number);
                }
            }
            expected.push('\n');
        }
        assert!(error_lines.len() >= 20, "{error_lines:?}");
        let one = run(&engine, &input, Some(1), &TUNING);
        assert_eq!(one.out, expected);
        assert_eq!(one.summary.errors as usize, error_lines.len());
        assert_eq!(one.progress_errors, error_lines);
        for tuning in [TINY, SMALL, TUNING] {
            for threads in [Some(2), Some(3), Some(8), None] {
                let r = run(&engine, &input, threads, &tuning);
                assert_eq!(r.out, expected, "{threads:?} {tuning:?}");
                assert_eq!(r.summary, one.summary, "{threads:?} {tuning:?}");
                assert_eq!(r.progress_errors, error_lines, "{threads:?} {tuning:?}");
                assert!(r.progress_lines.windows(2).all(|w| w[0] < w[1]));
                assert_eq!(r.progress_lines.last(), Some(&one.summary.records));
            }
            let r = run(&engine, &input, Some(1), &tuning);
            assert_eq!(r.out, expected, "sequential {tuning:?}");
        }
        // Tiny pieces: one progress report per line.
        let r = run(&engine, &input, Some(2), &TINY);
        assert_eq!(r.progress_lines.len() as u64, one.summary.records);
    }

    #[test]
    fn pipeline_handles_many_pieces_in_order() {
        // Lines that fail fast (no household evaluated): many pieces, quickly.
        let engine = engine();
        let mut input = String::new();
        for i in 0..5000 {
            if i % 3 == 0 {
                input.push_str(&format!("{{\"id\": \"H{i}\"}}\n"));
            } else {
                input.push_str(&format!("[{i}]\n"));
            }
        }
        let one = run(&engine, input.as_bytes(), Some(1), &TUNING);
        assert_eq!(one.out.lines().count(), 5000);
        for (i, line) in one.out.lines().enumerate() {
            assert!(line.starts_with(&format!("{{\"line\":{},", i + 1)), "{line}");
        }
        for tuning in [TINY, SMALL, TUNING] {
            let r = run(&engine, input.as_bytes(), Some(4), &tuning);
            assert_eq!(r.out, one.out, "{tuning:?}");
            assert_eq!(r.summary, one.summary);
        }
    }

    #[test]
    fn empty_input_gives_nothing() {
        let engine = engine();
        for threads in [Some(1), Some(2)] {
            let r = run(&engine, b"", threads, &TUNING);
            assert_eq!(r.out, "");
            assert_eq!(r.summary.records, 0);
            assert!(r.progress_lines.is_empty());
        }
    }

    /// Fails after `ok` bytes.
    struct Failing {
        ok: usize,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.ok == 0 {
                return Err(io::Error::other("disk full"));
            }
            let n = buf.len().min(self.ok);
            self.ok -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_write_error_ends_the_pipeline_without_hanging() {
        let engine = engine();
        let input: String = (0..3000).map(|i| format!("[{i}]\n")).collect();
        for threads in [Some(1), Some(2), Some(5)] {
            for tuning in [TINY, TUNING] {
                let r = batch_stream_tuned(
                    &engine,
                    input.as_bytes(),
                    Failing { ok: 1000 },
                    &opts(),
                    threads,
                    |_| {},
                    &tuning,
                );
                assert_eq!(r.unwrap_err().to_string(), "disk full");
            }
        }
    }

    /// Gives `data`, then an error.
    struct BrokenReader {
        data: Vec<u8>,
        at: usize,
    }

    impl io::Read for BrokenReader {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at == self.data.len() {
                return Err(io::Error::other("cable cut"));
            }
            let n = buf.len().min(self.data.len() - self.at).min(7);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_ends_the_batch_after_what_was_read() {
        let engine = engine();
        let data: String = (0..40).map(|i| format!("[{i}]\n")).collect();
        for threads in [Some(1), Some(2)] {
            let mut out = Vec::new();
            let reader = io::BufReader::with_capacity(16, BrokenReader {
                data: data.clone().into_bytes(),
                at: 0,
            });
            let r = batch_stream_tuned(&engine, reader, &mut out, &opts(), threads, |_| {}, &TINY);
            assert_eq!(r.unwrap_err().to_string(), "cable cut");
            // Every complete line read before the error has its record, in order.
            let out = String::from_utf8(out).unwrap();
            assert_eq!(out.lines().count(), 40, "{threads:?}");
            for (i, line) in out.lines().enumerate() {
                assert!(line.starts_with(&format!("{{\"line\":{},", i + 1)), "{line}");
            }
        }
    }

    #[test]
    fn summaries_merge_as_if_added_one_by_one() {
        let engine = engine();
        let date = crate::parse_date("2025-03-01").unwrap();
        let assessments: Vec<Assessment> = crate::synth::synth(&engine, 30, 3, None, date)
            .expect("synth")
            .map(|l| engine.evaluate_str(&l, &opts()).expect("evaluates"))
            .collect();
        let mut whole = BatchSummary::new(&engine);
        let mut parts = BatchSummary::new(&engine);
        for chunk in assessments.chunks(7) {
            let mut part = BatchSummary::new(&engine);
            for a in chunk {
                whole.add(a);
                part.add(a);
            }
            whole.add_error();
            part.add_error();
            parts.merge(part);
        }
        assert_eq!(parts, whole);
        assert_eq!(
            serde_json::to_string(&parts).unwrap(),
            serde_json::to_string(&whole).unwrap()
        );
    }

    #[test]
    fn write_json_is_to_json() {
        let engine = engine();
        let date = crate::parse_date("2025-03-01").unwrap();
        let mut buf = b"x".to_vec();
        for line in crate::synth::synth(&engine, 10, 5, None, date).expect("synth") {
            let a = engine.evaluate_str(&line, &opts()).expect("evaluates");
            let old = serde_json::to_string(&a).unwrap();
            assert_eq!(a.to_json(), old);
            buf.truncate(1);
            a.write_json(&mut buf);
            assert_eq!(&buf[1..], old.as_bytes());
        }
        let rec = ErrorRecord::new(3, Some("A\"1".into()), &Error::validation("x", "bad"));
        let old = serde_json::to_string(&rec).unwrap();
        assert_eq!(rec.to_json(), old);
        let mut buf = Vec::new();
        rec.write_json(&mut buf);
        assert_eq!(buf, old.as_bytes());
    }
}
