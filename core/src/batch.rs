//! Many households at once.
//!
//! * [`Engine::evaluate_many`]: a slice of households (JSON text or parsed values) in,
//!   one result per household out, in order, evaluated in parallel with rayon when the
//!   `parallel` feature is on (the default; the wasm build turns it off and gets the
//!   same results sequentially).
//! * [`batch_stream`]: JSON lines in, JSON lines out, memory bounded whatever the size
//!   of the input: lines are read in chunks (at most [`CHUNK_LINES`] lines or
//!   [`CHUNK_BYTES`] bytes), each chunk is evaluated in parallel and written in input
//!   order. Every input line gives exactly one output line: the assessment (the compact
//!   JSON of [`Assessment::to_json`], byte for byte what `jiuzhu evaluate` prints) or an
//!   [`ErrorRecord`] `{"line", "id", "errors"}`. A bad line never stops the batch.
//!
//! The pieces the streaming functions are built from ([`LineReader`], [`Workers`],
//! [`evaluate_line`], [`BatchSummary`]) are public so that other doors (`compare`,
//! Python) reuse them rather than re-implement them.

use crate::error::FieldError;
use crate::household;
use crate::money::Money;
use crate::{Assessment, Engine, Error, Options, Result};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::io::{self, BufRead, Write};

/// Lines evaluated together (in parallel) before their output is written.
pub const CHUNK_LINES: usize = 2048;
/// A chunk also ends once its lines hold this many bytes.
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
        Workers::new(threads).map(items, |item| {
            guarded(|| match item.as_text() {
                Some(text) => self.evaluate_str(text, opts),
                None => self.evaluate_value(item.to_value()?.as_ref(), opts),
            })
        })
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
            let (take, consume, end) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (i, i + 1, true),
                None => (available.len(), available.len(), false),
            };
            if !too_long {
                if buf.len() + take > MAX_LINE_BYTES {
                    too_long = true;
                    buf = Vec::new();
                } else {
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
        serde_json::to_string(self)
            .unwrap_or_else(|_| format!("{{\"line\":{},\"id\":null,\"errors\":[]}}", self.line))
    }
}

/// Parses and evaluates one line with `evaluate`; the id is the line's `id` when it is
/// JSON with a string there, for error records.
pub fn evaluate_line(
    engine: &Engine,
    line: &Line,
    opts: &Options,
) -> (Option<String>, Result<Assessment>) {
    let text = match &line.text {
        Ok(t) => t,
        Err(m) => return (None, Err(Error::validation("", m.clone()))),
    };
    // A valid household goes straight from text to `Household` (the fast reader);
    // anything else takes the full path below, which reports every error.
    if let Some(h) = engine.read_fast(text, opts) {
        return (Some(h.id.clone()), guarded(|| engine.evaluate_household(&h, opts)));
    }
    let value = match text.as_str().to_value() {
        Ok(v) => v.into_owned(),
        Err(e) => return (None, Err(e)),
    };
    let id = id_of(&value);
    (id, guarded(|| engine.evaluate_value(&value, opts)))
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
        self.records += 1;
        self.assessed += 1;
        for (id, p) in &a.programs {
            let s = self.programs.entry(id.clone()).or_default();
            match p.status {
                "eligible" => {
                    s.recipients += 1;
                    s.amounts.entry(p.period.to_string()).or_default().0 += p.amount.0;
                }
                "review" => s.review += 1,
                _ => {}
            }
        }
        self.totals.monthly.0 += a.totals.monthly.0;
        self.totals.one_off.0 += a.totals.one_off.0;
        self.totals.annual.0 += a.totals.annual.0;
    }

    pub fn add_error(&mut self) {
        self.records += 1;
        self.errors += 1;
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

/// Evaluates JSON lines from `reader` and writes one line per input line to `writer`
/// (see the module documentation); `progress` is called after each chunk. Only an I/O
/// error of the reader or the writer ends it early.
pub fn batch_stream<R, W>(
    engine: &Engine,
    reader: R,
    mut writer: W,
    opts: &Options,
    threads: Option<usize>,
    mut progress: impl FnMut(&Progress),
) -> io::Result<BatchSummary>
where
    R: BufRead,
    W: Write,
{
    let workers = Workers::new(threads);
    let mut lines = LineReader::new(reader);
    let mut summary = BatchSummary::new(engine);
    let mut out = String::new();
    loop {
        let chunk = lines.next_chunk(CHUNK_LINES, CHUNK_BYTES)?;
        if chunk.is_empty() {
            break;
        }
        // Serializing is part of the parallel work; the summary is folded in order.
        let results = workers.map(&chunk, |line| match evaluate_line(engine, line, opts) {
            (_, Ok(a)) => Ok((a.to_json(), a)),
            (id, Err(e)) => Err(ErrorRecord::new(line.number, id, &e)),
        });
        out.clear();
        let mut chunk_errors = Vec::new();
        for r in results {
            match r {
                Ok((json, a)) => {
                    out.push_str(&json);
                    summary.add(&a);
                }
                Err(rec) => {
                    out.push_str(&rec.to_json());
                    summary.add_error();
                    chunk_errors.push(rec);
                }
            }
            out.push('\n');
        }
        writer.write_all(out.as_bytes())?;
        progress(&Progress {
            lines: summary.records,
            errors: summary.errors,
            bytes: lines.bytes_read(),
            chunk_errors: &chunk_errors,
        });
    }
    writer.flush()?;
    Ok(summary)
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
}
