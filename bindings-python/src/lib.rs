//! `jiuzhu._jiuzhu`: the Rust half of the Python door.
//!
//! A thin layer over `jiuzhu-core`: it converts Python objects to JSON and back (money
//! as `decimal.Decimal`, never `float`), releases the GIL while the core evaluates (in
//! parallel, with the core's own workers), and turns every core error into a Python
//! exception of `jiuzhu` (`ValidationError`, `RuleError`, …). A panic never reaches
//! Python: every entry point runs under `catch_unwind` and a panic becomes a
//! `JiuzhuError`. The Python package (`python/jiuzhu`) adds defaults, frames and pickling.

mod input;
mod output;
mod prefault;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use input::Converter;
use jiuzhu_core::batch::{self, HouseholdInput};
use jiuzhu_core::render::Decision;
use jiuzhu_core::{Engine, Error, FieldError, Options, PackFiles};
use output::{Out, PySink};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyIterator, PyList, PyString, PyTuple};
use serde_json::Value;
use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicUsize;

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// An exception of `jiuzhu._errors` (defined in Python so that it pickles, carries
/// `.errors` and documents itself).
fn raise(py: Python<'_>, class: &str, message: String, errors: &[FieldError]) -> PyErr {
    let make = || -> PyResult<PyErr> {
        let module = ERRORS.get_or_try_init(py, || py.import("jiuzhu._errors").map(Bound::unbind))?.bind(py);
        let list = field_errors(py, errors)?;
        let exc = module.getattr(class)?.call1((message.clone(), list))?;
        Ok(PyErr::from_value(exc))
    };
    make().unwrap_or_else(|e| e)
}

fn field_errors<'py>(py: Python<'py>, errors: &[FieldError]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for e in errors {
        let d = PyDict::new(py);
        d.set_item("path", &e.path)?;
        d.set_item("message", &e.message)?;
        list.append(d)?;
    }
    Ok(list)
}

/// The Python exception of a core error.
fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    let class = match e {
        Error::Validation(_) => "ValidationError",
        Error::Parameter(_) => "ParameterError",
        Error::Rule { .. } => "RuleError",
        Error::Pack(_) => "PackError",
        Error::Usage(_) => "UsageError",
        Error::Internal(_) => "JiuzhuError",
    };
    raise(py, class, e.to_string(), &e.field_errors())
}

fn usage(py: Python<'_>, message: impl Into<String>) -> PyErr {
    raise(py, "UsageError", message.into(), &[])
}

/// Runs `f`, turning a panic into a `JiuzhuError` (a panic is a bug of jiuzhu).
fn shield<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(raise(py, "JiuzhuError", panic_message(payload), &[])),
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("internal error (a bug in jiuzhu, please report it): {what}")
}

/// Runs `f` without the GIL; a panic becomes a `JiuzhuError`.
fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    py.detach(|| catch_unwind(AssertUnwindSafe(f)).map_err(panic_message))
        .map_err(|m| raise(py, "JiuzhuError", m, &[]))
}

// ---------------------------------------------------------------------------------------
// Households in
// ---------------------------------------------------------------------------------------

/// One household as the core takes it: JSON text (given, or written from a dict), or the
/// reason it could not be converted.
enum Item {
    Text(String),
    Bad(Option<String>, Error),
}

impl HouseholdInput for Item {
    fn to_value(&self) -> jiuzhu_core::Result<Cow<'_, Value>> {
        match self {
            Item::Text(t) => t.to_value(),
            Item::Bad(_, e) => Err(e.clone()),
        }
    }
    /// Text goes through the core's fast reader.
    fn as_text(&self) -> Option<&str> {
        match self {
            Item::Text(t) => Some(t),
            _ => None,
        }
    }
}

impl Item {
    /// The household's id, for an error record.
    fn id(&self) -> Option<String> {
        match self {
            Item::Text(t) => t.to_value().ok().and_then(|v| batch::id_of(&v)),
            Item::Bad(id, _) => id.clone(),
        }
    }
}

fn item<'py>(conv: &mut Converter<'py>, obj: &Bound<'py, PyAny>) -> PyResult<Item> {
    if let Ok(s) = obj.cast::<PyString>() {
        // Copied through a temporary `bytes` (pyo3's `to_cow`), not `input::text_of`: a
        // household text that is not all ASCII would keep a UTF-8 copy of itself for as
        // long as the caller keeps the str (a list of a million of them, twice the memory).
        return Ok(match s.to_cow() {
            Ok(t) => Item::Text(t.into_owned()),
            Err(_) => Item::Bad(None, Error::validation("", "the text is not valid Unicode (a lone surrogate)")),
        });
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(match String::from_utf8(b.as_bytes().to_vec()) {
            Ok(t) => Item::Text(t),
            Err(e) => Item::Bad(None, Error::validation("", format!("the bytes are not UTF-8 (byte {})", e.utf8_error().valid_up_to() + 1))),
        });
    }
    if obj.is_none() {
        return Ok(Item::Bad(None, Error::validation("", "no household (None)")));
    }
    if !obj.is_instance_of::<PyDict>() {
        let type_name = obj.get_type().name()?.to_cow()?.into_owned();
        return Ok(Item::Bad(None, Error::validation("", format!("a household is a dict or a JSON str, not a {type_name}"))));
    }
    conv.errors.clear();
    let mut text = String::with_capacity(1024);
    conv.write(obj, &mut String::new(), 0, &mut text)?;
    if conv.errors.is_empty() {
        Ok(Item::Text(text))
    } else {
        // the id as the core would read it from the text: a str at "id", if any
        let id = obj.cast::<PyDict>().ok().and_then(|d| d.get_item("id").ok().flatten()).and_then(|v| v.cast::<PyString>().ok().and_then(|s| input::text_of(s).map(str::to_string)));
        Ok(Item::Bad(id, Error::Validation(std::mem::take(&mut conv.errors))))
    }
}

/// The households of an iterable (refused: a single household).
fn households_iter<'py>(households: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyIterator>> {
    if households.is_instance_of::<PyString>() || households.is_instance_of::<PyDict>() {
        return Err(PyTypeError::new_err("households: give a list (or any iterable) of households, not a single one"));
    }
    households.try_iter()
}

/// The households of a Python iterable, converted one at a time as the core asks for
/// them (it takes them a chunk at a time), taking the GIL back for each: a comparison of
/// millions of households holds one chunk of them in memory, not all (all of them
/// converted first took 80 MB for 100,000). The first Python error stops the iteration
/// and is kept in `failed`, for the caller to raise.
struct Pulled {
    households: Py<PyIterator>,
    failed: std::sync::Mutex<Option<PyErr>>,
}

impl Pulled {
    fn iter(&self) -> impl Iterator<Item = Item> + '_ {
        std::iter::from_fn(move || {
            Python::attach(|py| {
                let mut households = self.households.bind(py).clone();
                let next = households.next()?.and_then(|h| item(&mut Converter::new(py)?, &h));
                match next {
                    Ok(item) => Some(item),
                    Err(e) => {
                        if let Ok(mut failed) = self.failed.lock() {
                            failed.get_or_insert(e);
                        }
                        None
                    }
                }
            })
        })
    }
}

fn date_arg(py: Python<'_>, name: &str, s: Option<&str>) -> PyResult<Option<jiuzhu_core::Date>> {
    match s {
        None => Ok(None),
        Some(s) => jiuzhu_core::parse_date(s).map(Some).ok_or_else(|| usage(py, format!("{name} {s:?} is not a date YYYY-MM-DD"))),
    }
}

// ---------------------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------------------

/// The core engine with what it takes to rebuild it elsewhere (a pickle): whether its
/// pack is the embedded one, and the overrides as given.
#[pyclass(frozen, module = "jiuzhu._jiuzhu", name = "Core")]
struct Core {
    engine: Engine,
    embedded: bool,
    overrides: Vec<(String, String)>,
    /// The Python objects its results are made of, kept from one call to the next
    /// ([`output::Tables`]); taken by a call and put back after it (a call running
    /// meanwhile on another thread makes its own).
    tables: std::sync::Mutex<Option<output::Tables>>,
}

fn pack_error(py: Python<'_>, r: jiuzhu_core::Result<Engine>) -> PyResult<Engine> {
    r.map_err(|e| to_py(py, &e))
}

impl Core {
    /// An [`Out`] with this engine's tables (new ones while another call has them).
    fn out<'py>(&self, py: Python<'py>) -> PyResult<Out<'py>> {
        let tables = self.tables.lock().ok().and_then(|mut t| t.take()).unwrap_or_default();
        Out::with(py, tables)
    }

    /// Keeps the tables of `out` for the next call.
    fn keep(&self, out: Out<'_>) {
        if let Ok(mut t) = self.tables.lock() {
            *t = Some(out.into_tables());
        }
    }

    fn options(&self, py: Python<'_>, as_of: Option<&str>, default_as_of: Option<&str>, lang: Option<String>, trace: bool, messages: bool) -> PyResult<Options> {
        if let Some(l) = &lang {
            let langs = &self.engine.manifest().languages;
            if !langs.contains(l) {
                return Err(usage(py, format!("language {l:?} is not one of the pack's: {}", langs.join(", "))));
            }
        }
        Ok(Options { as_of: date_arg(py, "as_of", as_of)?, default_as_of: date_arg(py, "default_as_of", default_as_of)?, lang, trace, messages })
    }

    /// Every household of `households` (any iterable), decided and handed in order to
    /// `each` (with the GIL): its position, its input, its decision or error.
    ///
    /// A slice at a time, so that the decisions in memory at once stay few and their
    /// memory is reused; the households are read a slice at a time too (their texts,
    /// copied for the core, then reuse the memory of the slice before: all of them read
    /// first took fresh memory, ~1.5 KB a household, paid for in page faults). Decided
    /// without the GIL. With two threads or more, the next slice is decided while `each`
    /// takes this one (which only the thread holding the GIL can do): one thread hands
    /// on, the others decide, and it joins them when done ([`pipeline`]).
    fn each_decided<'py>(
        &self,
        py: Python<'py>,
        households: &Bound<'py, PyAny>,
        opts: &Options,
        threads: Option<usize>,
        mut each: impl FnMut(usize, &Item, &jiuzhu_core::Result<Decision<'_>>) -> PyResult<()>,
    ) -> PyResult<()> {
        let mut households = households_iter(households)?;
        let mut conv = Converter::new(py)?;
        let helpers = pipeline(threads);
        // A slice gives each thread about MANY_SLICE households: the helpers are started
        // anew for each slice, which costs little against that much work to share.
        let slice = MANY_SLICE * (1 + helpers.unwrap_or(0));
        let mut read = |into: &mut Vec<Item>| -> PyResult<()> {
            into.clear();
            for h in households.by_ref().take(slice) {
                into.push(item(&mut conv, &h?)?);
            }
            Ok(())
        };
        let mut items = Vec::with_capacity(slice);
        let mut next = Vec::with_capacity(slice);
        read(&mut items)?;
        let mut decided = detached(py, || self.engine.decide_many(&items, opts, threads))?;
        for c in 0.. {
            read(&mut next)?;
            let mut hand_on = |decided: &[jiuzhu_core::Result<Decision<'_>>]| -> PyResult<()> {
                for (j, (d, item)) in decided.iter().zip(&items).enumerate() {
                    each(c * slice + j, item, d)?;
                }
                Ok(())
            };
            if next.is_empty() {
                return hand_on(&decided);
            }
            decided = match helpers {
                Some(helpers) => decide_meanwhile(py, &self.engine, &next, opts, helpers, || hand_on(&decided))?,
                None => {
                    hand_on(&decided)?;
                    detached(py, || self.engine.decide_many(&next, opts, threads))?
                }
            };
            std::mem::swap(&mut items, &mut next);
        }
        Ok(())
    }
}

/// Households evaluated together by `evaluate_many` before they become Python objects,
/// for each thread.
const MANY_SLICE: usize = 128;

/// How many threads of `evaluate_many` start deciding the next slice while the calling
/// thread renders this one: all the threads asked for but the caller's, which joins them
/// once it has rendered (`None` for one thread: then slices are decided and rendered in
/// turn, on the calling thread alone, as `threads=1` promises).
///
/// Why: rendering into Python objects needs the GIL, so only one thread can do it, and it
/// takes about as long as deciding. In turn, on two cores, one core sat idle for half of
/// each slice (the default call took as long as `threads=1`); overlapped, with the work
/// of deciding shared out a household at a time (`Engine::decide_from`), neither waits
/// for long.
fn pipeline(threads: Option<usize>) -> Option<usize> {
    let total = match threads {
        Some(n) if n > 0 => n,
        _ => batch::Workers::new(None).threads(),
    };
    (total >= 2).then_some(total - 1)
}

/// `items` decided by `helpers` threads started now and, once `first` has returned (it
/// runs on the calling thread, with the GIL), by the calling thread too, without the GIL:
/// each takes the next household until none is left ([`Engine::decide_from`]). In the
/// order of `items`. If `first` fails, its error, once the helpers are done.
fn decide_meanwhile<'e>(
    py: Python<'_>,
    engine: &'e Engine,
    items: &[Item],
    opts: &Options,
    helpers: usize,
    first: impl FnOnce() -> PyResult<()>,
) -> PyResult<Vec<jiuzhu_core::Result<Decision<'e>>>> {
    let cursor = AtomicUsize::new(0);
    let take = || catch_unwind(AssertUnwindSafe(|| engine.decide_from(items, opts, &cursor)));
    let parts = std::thread::scope(|s| {
        let helping: Vec<_> = (0..helpers).map(|_| s.spawn(take)).collect();
        first()?;
        let mut parts = vec![py.detach(take)];
        parts.extend(py.detach(|| helping.into_iter().map(|h| h.join().unwrap_or_else(Err)).collect::<Vec<_>>()));
        Ok::<_, PyErr>(parts)
    })?;
    let mut slots: Vec<Option<_>> = (0..items.len()).map(|_| None).collect();
    for part in parts {
        for (i, d) in part.map_err(|payload| raise(py, "JiuzhuError", panic_message(payload), &[]))? {
            slots[i] = Some(d);
        }
    }
    slots.into_iter().map(|d| d.ok_or_else(|| raise(py, "JiuzhuError", "a household was left undecided".into(), &[]))).collect()
}

/// The error record of `evaluate_many`: `{index, id, errors}`.
fn error_record<'py>(py: Python<'py>, index: usize, id: Option<String>, e: &Error) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("index", index)?;
    d.set_item("id", id)?;
    d.set_item("errors", output::untracked(field_errors(py, &e.field_errors())?))?;
    Ok(output::untracked(d))
}

/// Turns Python's cyclic garbage collector off while it lives (if it was on).
struct GcPause<'py> {
    gc: Option<Bound<'py, PyAny>>,
}

impl<'py> GcPause<'py> {
    fn new(py: Python<'py>) -> PyResult<Self> {
        let gc = py.import("gc")?;
        if gc.call_method0("isenabled")?.is_truthy()? {
            gc.call_method0("disable")?;
            Ok(GcPause { gc: Some(gc.into_any()) })
        } else {
            Ok(GcPause { gc: None })
        }
    }
}

impl Drop for GcPause<'_> {
    fn drop(&mut self) {
        if let Some(gc) = &self.gc {
            let _ = gc.call_method0("enable");
        }
    }
}

fn threads_arg(py: Python<'_>, threads: Option<i64>) -> PyResult<Option<usize>> {
    match threads {
        None => Ok(None),
        Some(n) if n >= 0 => Ok(Some(n as usize)),
        Some(n) => Err(usage(py, format!("threads must be 0 (every core) or more, not {n}"))),
    }
}

#[pymethods]
impl Core {
    /// The embedded default pack.
    #[staticmethod]
    fn embedded(py: Python<'_>) -> PyResult<Core> {
        shield(py, || Ok(Core { engine: pack_error(py, Engine::new())?, embedded: true, overrides: Vec::new(), tables: Default::default() }))
    }

    /// A pack folder.
    #[staticmethod]
    fn from_dir(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Core> {
        shield(py, || Ok(Core { engine: pack_error(py, detached(py, || Engine::from_dir(&path))?)?, embedded: false, overrides: Vec::new(), tables: Default::default() }))
    }

    /// A pack given as {relative path: text}.
    #[staticmethod]
    fn from_files(py: Python<'_>, files: std::collections::BTreeMap<String, String>) -> PyResult<Core> {
        shield(py, || {
            let files = PackFiles::from_map(files);
            Ok(Core { engine: pack_error(py, detached(py, || Engine::from_files(files))?)?, embedded: false, overrides: Vec::new(), tables: Default::default() })
        })
    }

    /// The same pack with more overrides, each (`[REGION:]NAME`, value text).
    fn with_parameters(&self, py: Python<'_>, overrides: Vec<(String, String)>) -> PyResult<Core> {
        shield(py, || {
            let specs: Vec<String> = overrides.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let engine = self.engine.with_parameters(specs.iter().map(String::as_str)).map_err(|e| match e {
                Error::Usage(m) | Error::Parameter(m) => raise(py, "ParameterError", m, &[]),
                other => to_py(py, &other),
            })?;
            let mut all = self.overrides.clone();
            all.extend(overrides);
            Ok(Core { engine, embedded: self.embedded, overrides: all, tables: Default::default() })
        })
    }

    /// What rebuilds this engine: {"pack": "embedded" or {path: text}, "overrides": [(target, value)]}.
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        shield(py, || {
            let d = PyDict::new(py);
            if self.embedded {
                d.set_item("pack", "embedded")?;
            } else {
                let files = PyDict::new(py);
                for (p, t) in &self.engine.pack_files().files {
                    files.set_item(p, t)?;
                }
                d.set_item("pack", files)?;
            }
            let list = PyList::empty(py);
            for (k, v) in &self.overrides {
                list.append(PyTuple::new(py, [k, v])?)?;
            }
            d.set_item("overrides", list)?;
            Ok(d)
        })
    }

    #[getter]
    fn programs(&self) -> Vec<String> {
        self.engine.program_ids().into_iter().map(str::to_string).collect()
    }

    #[getter]
    fn languages(&self) -> Vec<String> {
        self.engine.manifest().languages.clone()
    }

    #[getter]
    fn regions(&self) -> Vec<String> {
        self.engine.regions().iter().cloned().collect()
    }

    #[getter]
    fn pack_info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let info = self.engine.pack_info();
        let d = PyDict::new(py);
        d.set_item("name", &info.name)?;
        d.set_item("version", &info.version)?;
        d.set_item("digest", &info.digest)?;
        Ok(d)
    }

    #[getter]
    fn overrides(&self) -> Vec<(String, String)> {
        self.overrides.clone()
    }

    /// One household (dict, JSON str or bytes) → the assessment dict; raises on error.
    #[pyo3(signature = (household, as_of=None, default_as_of=None, lang=None, trace=false, messages=true))]
    #[allow(clippy::too_many_arguments)]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        household: &Bound<'py, PyAny>,
        as_of: Option<&str>,
        default_as_of: Option<&str>,
        lang: Option<String>,
        trace: bool,
        messages: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        shield(py, || {
            let opts = self.options(py, as_of, default_as_of, lang, trace, messages)?;
            let item = item(&mut Converter::new(py)?, household)?;
            let result = detached(py, || self.engine.decide_input(&item, &opts))?;
            match result {
                Ok(d) => {
                    let mut out = self.out(py)?;
                    let made = PySink::assessment(&mut out, &d);
                    self.keep(out);
                    made
                }
                Err(e) => Err(to_py(py, &e)),
            }
        })
    }

    /// Many households → one assessment dict or error dict {index, id, errors} each, in order.
    #[pyo3(signature = (households, threads=None, as_of=None, default_as_of=None, lang=None, trace=false, messages=true))]
    #[allow(clippy::too_many_arguments)]
    fn evaluate_many<'py>(
        &self,
        py: Python<'py>,
        households: &Bound<'py, PyAny>,
        threads: Option<i64>,
        as_of: Option<&str>,
        default_as_of: Option<&str>,
        lang: Option<String>,
        trace: bool,
        messages: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        shield(py, || {
            let opts = self.options(py, as_of, default_as_of, lang, trace, messages)?;
            let threads = threads_arg(py, threads)?;
            let mut out = self.out(py)?;
            // The collector paused while the results are made. They are untracked as
            // they are made (output.rs), so it would find little to walk now: without
            // the pause, Python 3.11 ran ~530 young collections over 10,000 households,
            // 0.17 µs a household in all (3.13: one); with it, none.
            let _gc = GcPause::new(py)?;
            let _arenas = prefault::Prefault::new(py);
            let list = PyList::empty(py);
            self.each_decided(py, households, &opts, threads, |index, item, decided| {
                list.append(match decided {
                    Ok(d) => PySink::assessment(&mut out, d)?,
                    Err(e) => error_record(py, index, item.id(), e)?.into_any(),
                })
            })?;
            self.keep(out);
            Ok(list)
        })
    }

    /// The flat columns of `evaluate_frame`: [(name, "text" | "money")], fixed for the
    /// pack and the programs whose category is wanted.
    fn frame_schema(&self, categories: Vec<String>) -> Vec<(String, &'static str)> {
        let mut cols = vec![("household_id".to_string(), "text")];
        for p in self.engine.program_ids() {
            cols.push((format!("{p}_status"), "text"));
            if categories.iter().any(|c| c == p) {
                cols.push((format!("{p}_category"), "text"));
            }
            cols.push((format!("{p}_amount"), "money"));
        }
        for t in ["total_monthly", "total_one_off", "total_annual"] {
            cols.push((t.to_string(), "money"));
        }
        cols.push(("error".to_string(), "text"));
        cols
    }

    /// The columns of `frame_schema` for these households: one list per column, one
    /// entry per household (None where a household failed, `error` set instead).
    #[pyo3(signature = (households, categories, threads=None, as_of=None, default_as_of=None))]
    fn evaluate_columns<'py>(
        &self,
        py: Python<'py>,
        households: &Bound<'py, PyAny>,
        categories: Vec<String>,
        threads: Option<i64>,
        as_of: Option<&str>,
        default_as_of: Option<&str>,
    ) -> PyResult<Bound<'py, PyList>> {
        shield(py, || {
            // flat columns: no reason's message is read, so none is filled
            let opts = self.options(py, as_of, default_as_of, None, false, false)?;
            let threads = threads_arg(py, threads)?;
            let programs = self.engine.program_ids();
            let width = self.frame_schema(categories.clone()).len();
            let columns: Vec<Bound<'py, PyList>> = (0..width).map(|_| PyList::empty(py)).collect();
            let mut out = self.out(py)?;
            let _arenas = prefault::Prefault::new(py);
            let none = py.None().into_bound(py);
            // Read off each decision (status, category, amount and totals), with nothing
            // rendered: no reason, breakdown or message is made for a flat row.
            self.each_decided(py, households, &opts, threads, |_, _, decided| {
                let mut c = columns.iter();
                let mut push = |v: Bound<'py, PyAny>| -> PyResult<()> { c.next().expect("a column per value").append(v) };
                match decided {
                    Ok(d) => {
                        push(PyString::new(py, d.household_id()).into_any())?;
                        for (p, r) in programs.iter().zip(d.results()) {
                            debug_assert_eq!(*p, r.id);
                            push(out.text(r.status).into_any())?;
                            if categories.iter().any(|c| c == p) {
                                push(r.category.map_or_else(|| none.clone(), |cat| out.text(cat).into_any()))?;
                            }
                            push(out.money(&r.amount)?)?;
                        }
                        let totals = d.totals();
                        for m in [&totals.monthly, &totals.one_off, &totals.annual] {
                            push(out.money(m)?)?;
                        }
                        push(none.clone())
                    }
                    Err(e) => {
                        for _ in 0..width - 1 {
                            push(none.clone())?;
                        }
                        let text: Vec<String> = e.field_errors().iter().map(|f| f.to_string()).collect();
                        push(PyString::new(py, &text.join("; ")).into_any())
                    }
                }
            })?;
            self.keep(out);
            PyList::new(py, columns)
        })
    }

    /// Baseline (this engine) and reform over the same households: the figures of
    /// `jiuzhu compare`.
    #[pyo3(signature = (reform, households, as_of=None, default_as_of=None))]
    fn compare<'py>(
        &self,
        py: Python<'py>,
        reform: &Core,
        households: &Bound<'py, PyAny>,
        as_of: Option<&str>,
        default_as_of: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        shield(py, || {
            // (the comparison itself fills no message)
            let opts = self.options(py, as_of, default_as_of, None, false, true)?;
            let pulled = Pulled { households: households_iter(households)?.unbind(), failed: std::sync::Mutex::new(None) };
            let c = detached(py, || jiuzhu_core::compare::compare(&self.engine, &reform.engine, pulled.iter(), &opts))?;
            if let Some(e) = pulled.failed.into_inner().ok().flatten() {
                return Err(e);
            }
            let mut out = self.out(py)?;
            let made = out.comparison(&c);
            self.keep(out);
            Ok(made?.into_any())
        })
    }

    fn __repr__(&self) -> String {
        let info = self.engine.pack_info();
        format!("Core({} {}, {} override(s))", info.name, info.version, self.overrides.len())
    }
}

/// `n` synthetic households (JSON texts) for trying things out: the core's generator,
/// deterministic for a seed.
#[pyfunction]
#[pyo3(signature = (core, n, seed=42, region=None, as_of="2025-03-01"))]
fn synth(py: Python<'_>, core: &Core, n: usize, seed: u64, region: Option<&str>, as_of: &str) -> PyResult<Vec<String>> {
    shield(py, || {
        let date = date_arg(py, "as_of", Some(as_of))?.expect("given");
        let households = detached(py, || jiuzhu_core::synth::synth(&core.engine, n, seed, region, date).map(Iterator::collect::<Vec<String>>))?;
        households.map_err(|e| to_py(py, &e))
    })
}

/// Panics on purpose: lets the tests check that a panic becomes a `JiuzhuError`.
#[pyfunction]
fn _panic_for_test(py: Python<'_>) -> PyResult<()> {
    shield(py, || panic!("a deliberate panic"))
}

#[pymodule]
fn _jiuzhu(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Core>()?;
    m.add_function(wrap_pyfunction!(synth, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add("CORE_VERSION", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
