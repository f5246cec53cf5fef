//! # jiuzhu-core
//!
//! The engine of jiuzhu (救助): it decides community social assistance from a household
//! profile, with rules written in Rhai and parameters that carry their dates and legal
//! sources. Every door — the `jiuzhu` command, Python, WebAssembly — is a thin layer over
//! this crate.
//!
//! ## The way of one household
//!
//! ```text
//! JSON text ──household::parse──▶ JSON value (numbers kept as text: money stays exact)
//!           ──household::read_household──▶ Household   (every error, each with its JSON path)
//!           ──household::derive──▶ Derived             (ages, work capacity, counted income, p; policy.md §0)
//!           ──script: each program in dependency order──▶ Outcome
//!                 (its Rhai script sees `household`, `results` of its dependencies and
//!                  `param("…")` bound to the household's region, area and date)
//!           ──assessment──▶ Assessment (reasons rendered in the asked language, totals, trace)
//! ```
//!
//! ```
//! use jiuzhu_core::{Engine, Options};
//! let engine = Engine::new().unwrap();               // the embedded default pack
//! let json = r#"{"id": "HH-1", "region": "110105", "as_of": "2025-03-01",
//!   "members": [{"id": "m1", "relation": "head", "birth_date": "1950-06-10", "sex": "male",
//!                "incomes": [{"kind": "pension", "monthly": "500.00"}]}]}"#;
//! let a = engine.evaluate_str(json, &Options::default()).unwrap();
//! assert_eq!(a.household_id, "HH-1");
//! assert!(a.programs.contains_key("subsistence"));
//! ```
//!
//! The modules follow that way: [`household`] → [`params`] and [`pack`] (what the rules
//! need) → [`script`] (the sandbox) → [`assessment`] (the output), with [`messages`] for
//! the reasons' text.
//!
//! ## Speed
//!
//! Build one [`Engine`] and keep it: it compiles the rules once, and every method takes
//! `&self` from any thread. For many households, JSON in and JSON out,
//! [`batch::batch_stream`] (what `jiuzhu batch` runs) or [`Engine::evaluate_json_into`]
//! with a buffer kept from one household to the next write the output without building
//! an [`Assessment`]. An `Assessment` is a tree of small allocations: holding many and
//! dropping them costs ≈ 3 µs a household with mimalloc (what the command and the Python
//! package use) against ≈ 13 µs with the system allocator of Linux (docs/performance.md,
//! tenth session), so a program that keeps thousands may want mimalloc as its global
//! allocator.

pub mod assessment;
pub mod batch;
pub mod compare;
pub mod date;
pub mod error;
pub mod household;
mod json;
pub mod messages;
pub mod money;
pub mod pack;
pub mod render;
pub mod params;
pub mod script;
pub mod synth;
pub mod testing;

pub use assessment::{Assessment, ProgramResult, Reason, Totals, TraceEntry};
pub use date::{parse_date, Date};
pub use error::{Error, FieldError, PackProblem, Result};
pub use household::Household;
pub use pack::{Limits, Manifest, PackFiles};
pub use params::{Overrides, ParamStore, ParamValue};
pub use rust_decimal::Decimal;

use assessment::PackInfo;
use household::{DeriveParams, Derived};
use messages::Catalog;
use money::Money;
use rhai::{Dynamic, Scope, AST};
use script::value::Val;
use script::session::{self, Session};
use script::{Outcome, Period, Status};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// How to evaluate: the date, the language of messages, whether to write messages,
/// whether to keep a trace.
#[derive(Debug, Clone)]
pub struct Options {
    /// The assessment date, overriding the household's own `as_of`.
    pub as_of: Option<Date>,
    /// The date to use when neither `as_of` nor the household gives one (a door passes
    /// today's date here; the core has no clock).
    pub default_as_of: Option<Date>,
    /// Message language; `None` is the pack's first language.
    pub lang: Option<String>,
    /// Record every parameter read and each program's result.
    pub trace: bool,
    /// Write each reason's `message` (default). `false` leaves the key out and fills no
    /// template: for callers that read reason codes (a population study, a form that has
    /// its own texts), the messages are the largest part of the output and of its cost.
    /// Codes, legal bases and values are written either way.
    pub messages: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { as_of: None, default_as_of: None, lang: None, trace: false, messages: true }
    }
}

struct Program {
    id: String,
    /// `id` interned: the key of `results.<id>` for later programs, without an
    /// allocation per household.
    key: &'static str,
    file: String,
    depends_on: Vec<usize>,
    ast: AST,
    /// The compiled form, or why the script runs interpreted (see [`script::fast`]).
    fast: std::result::Result<script::fast::Program, String>,
}

/// How an engine runs the programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The compiled evaluator; Rhai when it gives up on a household.
    Compiled,
    /// The compiled evaluator alone: giving up is an internal error (tests use this to
    /// show the fast path did the work).
    CompiledOnly,
    /// Rhai's interpreter for every program (the reference).
    Interpreted,
}

/// Why a run of the compiled programs stopped.
enum Stop {
    /// The compiled evaluator gave up: evaluate again with Rhai.
    Bail,
    Error(Error),
}

/// A loaded, compiled rule pack. Cheap to clone and to share between threads: scripts
/// are compiled once, when the engine is built.
struct Pack {
    manifest: Manifest,
    files: PackFiles,
    info: PackInfo,
    store: Arc<ParamStore>,
    catalog: Catalog,
    /// The catalog made ready for rendering.
    templates: messages::Templates,
    rhai: rhai::Engine,
    /// In run order.
    programs: Vec<Program>,
    known_regions: BTreeSet<String>,
}

/// The engine: a compiled rule pack plus parameter overrides (empty for today's rules).
#[derive(Clone)]
pub struct Engine {
    pack: Arc<Pack>,
    overrides: Arc<Overrides>,
    /// Parameters resolved per region, area and date, shared by evaluations.
    resolutions: Arc<session::Resolutions>,
    /// How programs run (compiled, with or without falling back to Rhai, or on Rhai).
    mode: Mode,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Engine({} {} {})", self.pack.info.name, self.pack.info.version, self.pack.info.digest)
    }
}

impl Engine {
    /// The embedded default pack.
    pub fn new() -> Result<Self> {
        Self::from_files(PackFiles::embedded())
    }

    /// A pack folder.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        Self::from_files(PackFiles::from_dir(dir.as_ref())?)
    }

    /// A pack given as files; reports every problem (with file and line) at once.
    pub fn from_files(files: PackFiles) -> Result<Self> {
        let mut problems = Vec::new();
        let manifest = match files.files.get("pack.toml") {
            Some(text) => Manifest::parse(text).map_err(|p| problems.push(p)).ok(),
            None => {
                problems.push(PackProblem { file: "pack.toml".into(), line: None, message: "missing".into() });
                None
            }
        };
        let store = ParamStore::from_files(files.in_dir("parameters", ".toml")).map_err(|p| problems.extend(p)).ok();
        let catalog = Catalog::from_files(files.in_dir("messages", ".toml")).map_err(|p| problems.extend(p)).ok();
        let Some(manifest) = manifest else { return Err(Error::Pack(problems)) };
        let rhai = script::sandbox(&manifest.limits);
        let order = manifest.run_order().map_err(|p| problems.extend(p)).ok();
        let mut programs = Vec::new();
        if let Some(order) = &order {
            for &i in order {
                let decl = &manifest.programs[i];
                let file = decl.script_path();
                let Some(source) = files.files.get(&file) else {
                    problems.push(PackProblem { file: file.clone(), line: None, message: format!("script of program `{}` is missing", decl.id) });
                    continue;
                };
                match script::compile(&rhai, &file, source) {
                    Ok(ast) => programs.push(Program {
                        fast: script::fast::compile(&ast),
                        id: decl.id.clone(),
                        key: script::value::intern(&decl.id),
                        file,
                        depends_on: decl
                            .depends_on
                            .iter()
                            .map(|d| order.iter().position(|&j| manifest.programs[j].id == *d).unwrap_or(0))
                            .collect(),
                        ast,
                    }),
                    Err(p) => problems.push(p),
                }
            }
        }
        for lang in &manifest.languages {
            if catalog.as_ref().is_some_and(|c| !c.by_lang.contains_key(lang)) {
                problems.push(PackProblem { file: format!("messages/{lang}.toml"), line: None, message: format!("language `{lang}` is listed in pack.toml but has no messages") });
            }
        }
        if manifest.languages.is_empty() {
            problems.push(PackProblem { file: "pack.toml".into(), line: None, message: "`languages` is empty".into() });
        }
        let (Some(store), Some(catalog), true) = (store, catalog, problems.is_empty()) else {
            return Err(Error::Pack(problems));
        };
        let known_regions = store.regions_with(&manifest.region_parameter);
        if known_regions.is_empty() {
            return Err(Error::Pack(vec![PackProblem {
                file: "parameters".into(),
                line: None,
                message: format!("no region has a value of `{}` (region_parameter)", manifest.region_parameter),
            }]));
        }
        let info = PackInfo { name: manifest.name.clone(), version: manifest.version.clone(), digest: files.digest() };
        let templates = messages::Templates::new(&catalog, &manifest.languages);
        let pack = Pack { manifest, files, info, store: Arc::new(store), catalog, templates, rhai, programs, known_regions };
        Ok(Engine { pack: Arc::new(pack), overrides: Arc::new(Overrides::default()), resolutions: Default::default(), mode: Mode::Compiled })
    }

    /// The same pack with parameter overrides (a reform); compiled scripts are shared.
    pub fn with_overrides(&self, overrides: Overrides) -> Engine {
        Engine { pack: self.pack.clone(), overrides: Arc::new(overrides), resolutions: Default::default(), mode: self.mode }
    }

    /// The same engine, running every program with the Rhai interpreter instead of the
    /// compiled evaluator. The results are the same (that is tested); this is the
    /// reference, and slower.
    pub fn interpreted(&self) -> Engine {
        Engine { mode: Mode::Interpreted, ..self.clone() }
    }

    /// For tests: the compiled evaluator only; where it would fall back to Rhai, an
    /// [`Error::Internal`] instead.
    #[doc(hidden)]
    pub fn compiled_strict(&self) -> Engine {
        Engine { mode: Mode::CompiledOnly, ..self.clone() }
    }

    /// Programs that run interpreted even on the compiled path, with the construct that
    /// keeps each out of the compiled subset.
    pub fn interpreted_programs(&self) -> Vec<(&str, &str)> {
        self.pack.programs.iter().filter_map(|p| p.fast.as_ref().err().map(|why| (p.id.as_str(), why.as_str()))).collect()
    }

    /// Overrides from `[REGION:]PARAM=VALUE` texts, added to this engine's own.
    pub fn with_parameters<'a>(&self, specs: impl IntoIterator<Item = &'a str>) -> Result<Engine> {
        let mut o = (*self.overrides).clone();
        for s in specs {
            o.add_text(&self.pack.store, s)?;
        }
        Ok(self.with_overrides(o))
    }

    pub fn overrides(&self) -> &Overrides {
        &self.overrides
    }
    pub fn manifest(&self) -> &Manifest {
        &self.pack.manifest
    }
    pub fn pack_info(&self) -> &PackInfo {
        &self.pack.info
    }
    pub fn pack_files(&self) -> &PackFiles {
        &self.pack.files
    }
    pub fn parameters(&self) -> &ParamStore {
        &self.pack.store
    }
    pub fn catalog(&self) -> &Catalog {
        &self.pack.catalog
    }
    /// Region codes the pack has parameters for.
    pub fn regions(&self) -> &BTreeSet<String> {
        &self.pack.known_regions
    }
    /// Program ids in run order.
    pub fn program_ids(&self) -> Vec<&str> {
        self.pack.programs.iter().map(|p| p.id.as_str()).collect()
    }

    /// Evaluates a household given as JSON text.
    pub fn evaluate_str(&self, text: &str, opts: &Options) -> Result<Assessment> {
        self.evaluate_read(&self.read_str(text, opts)?, opts)
    }

    /// Evaluates a household given as text or as a JSON value (see [`batch::HouseholdInput`]):
    /// text through [`Engine::read_str`] and its fast reader.
    pub fn evaluate_input(&self, item: &(impl batch::HouseholdInput + ?Sized), opts: &Options) -> Result<Assessment> {
        self.evaluate_read(&self.read_input(item, opts)?, opts)
    }

    /// Reads a household given as text ([`Engine::read_str`]) or as a JSON value
    /// ([`Engine::read`]).
    pub fn read_input(&self, item: &(impl batch::HouseholdInput + ?Sized), opts: &Options) -> Result<Household> {
        match item.as_text() {
            Some(text) => self.read_str(text, opts),
            None => self.read(item.to_value()?.as_ref(), opts),
        }
    }

    /// The programs on a household that one of the readers accepted (they settled the
    /// date and checked the region).
    pub(crate) fn evaluate_read(&self, h: &Household, opts: &Options) -> Result<Assessment> {
        let as_of = self.settle_date(h.as_of.map(|d| d.0), opts)?;
        self.evaluate_checked(h, as_of, opts)
    }

    /// [`Engine::evaluate_read`] before rendering: the decision, to write as JSON text
    /// straight away ([`render::Decision::write_json`]).
    pub(crate) fn decide_read<'a>(&'a self, h: std::borrow::Cow<'a, Household>, opts: &Options) -> Result<render::Decision<'a, Vec<Outcome>>> {
        let as_of = self.settle_date(h.as_of.map(|d| d.0), opts)?;
        self.decide(h, as_of, opts)
    }

    /// Reads and evaluates a household given as text or as a JSON value, up to the
    /// decision: to render into an [`Assessment`] or into any [`render::Sink`] (the
    /// Python binding builds its dicts this way).
    pub fn decide_input(&self, item: &(impl batch::HouseholdInput + ?Sized), opts: &Options) -> Result<render::Decision<'_>> {
        let h = self.read_input(item, opts)?;
        Ok(self.decide_read(std::borrow::Cow::Owned(h), opts)?.shareable())
    }

    /// The decision on a validated household, borrowed: what [`Engine::evaluate_household`]
    /// gives before rendering (the programs' outcomes; render them with
    /// [`render::Decision::write_json`] or [`render::Decision::emit`]).
    pub fn decide_household<'a>(&'a self, h: &'a Household, opts: &Options) -> Result<render::Decision<'a>> {
        let as_of = self.settle_date(h.as_of.map(|d| d.0), opts)?;
        self.check_region(&h.region)?;
        Ok(self.decide(std::borrow::Cow::Borrowed(h), as_of, opts)?.shareable())
    }

    /// Evaluates a household given as text or as a JSON value and appends the compact
    /// JSON of its assessment to `out`: the bytes of
    /// `evaluate_input(item, opts)?.to_json()`, faster (the assessment is written as it
    /// is rendered, never built). On an error nothing is appended.
    pub fn evaluate_json_into(&self, item: &(impl batch::HouseholdInput + ?Sized), opts: &Options, out: &mut Vec<u8>) -> Result<()> {
        let h = self.read_input(item, opts)?;
        self.decide_read(std::borrow::Cow::Owned(h), opts)?.write_json(out);
        Ok(())
    }

    /// [`Engine::evaluate_json_into`] into a new string.
    pub fn evaluate_json(&self, item: &(impl batch::HouseholdInput + ?Sized), opts: &Options) -> Result<String> {
        let mut out = Vec::with_capacity(4096);
        self.evaluate_json_into(item, opts, &mut out)?;
        Ok(String::from_utf8(out).expect("JSON is UTF-8"))
    }

    /// Parses and validates JSON text without evaluating: the same answer as
    /// [`household::parse_household_text`] followed by [`Engine::read`], much faster on a
    /// valid household (the fast reader, [`household::read_household_fast`], gives up at
    /// anything unusual and the full path then reports every error).
    pub fn read_str(&self, text: &str, opts: &Options) -> Result<Household> {
        if let Some(read) = self.read_fast_checked(text, opts) {
            return read;
        }
        let v = household::parse_household_text(text).map_err(Error::Validation)?;
        self.read_full(&v, opts)
    }

    /// The fast reader alone: `Some` only for a household that [`Engine::read_str`] would
    /// accept, apart from the region check (see [`Engine::evaluate_household`]); `None`
    /// means "use the full path", not "invalid".
    pub fn read_fast(&self, text: &str, opts: &Options) -> Option<Household> {
        household::read_household_fast(text, |own| self.settle_date(own, opts).ok())
    }

    /// The words reader alone ([`household::read_household_words`], the form the wasm
    /// package's JavaScript writes of a household object): like [`Engine::read_fast`],
    /// `Some` only for a household that the same object's JSON text would give, apart
    /// from the region check; `None` means "use the text path", not "invalid".
    pub fn read_words(&self, words: &[i32], text: &str, opts: &Options) -> Option<Household> {
        household::read_household_words(words, text, |own| self.settle_date(own, opts).ok())
    }

    /// [`Engine::decide_input`] for a caller that renders the decision on this thread
    /// (into its own [`render::Sink`]): the outcomes stay as the programs made them,
    /// without the copy that lets a decision move to another thread (a decision holding
    /// them cannot).
    pub fn decide_input_here(&self, item: &(impl batch::HouseholdInput + ?Sized), opts: &Options) -> Result<render::Decision<'_, Vec<Outcome>>> {
        let h = self.read_input(item, opts)?;
        self.decide_read(std::borrow::Cow::Owned(h), opts)
    }

    /// [`Engine::decide_input_here`] for a household that a reader gave (its region not
    /// yet checked: [`Engine::read_fast`], [`Engine::read_words`]).
    pub fn decide_owned_here(&self, h: Household, opts: &Options) -> Result<render::Decision<'_, Vec<Outcome>>> {
        self.check_region(&h.region)?;
        self.decide_read(std::borrow::Cow::Owned(h), opts)
    }

    /// Evaluates a household given as a JSON value (parsed with exact numbers).
    pub fn evaluate_value(&self, v: &serde_json::Value, opts: &Options) -> Result<Assessment> {
        self.evaluate_read(&self.read(v, opts)?, opts)
    }

    /// Validates a household given as a JSON value, without evaluating. The value is
    /// walked by the fast field readers first ([`household::read_household_value`]):
    /// the full reader builds the JSON path of every field as it goes, several times
    /// the cost; it still reads anything the fast one gives up on, so the answer is
    /// [`Engine::read_full`]'s.
    pub fn read(&self, v: &serde_json::Value, opts: &Options) -> Result<Household> {
        if let Some(h) = household::read_household_value(v, |own| self.settle_date(own, opts).ok()) {
            return self.check_region(&h.region).map(|()| h);
        }
        self.read_full(v, opts)
    }

    /// [`Engine::read_fast`] with the region checked: `None` means "use the full reader".
    fn read_fast_checked(&self, text: &str, opts: &Options) -> Option<Result<Household>> {
        let h = self.read_fast(text, opts)?;
        Some(self.check_region(&h.region).map(|()| h))
    }

    /// The full reader alone: every problem of the document, each with its path.
    pub fn read_full(&self, v: &serde_json::Value, opts: &Options) -> Result<Household> {
        let settled = self.settle_date(household::peek_as_of(v), opts);
        // Without a date, still validate everything else (against the latest possible
        // date) so that the caller sees every problem at once.
        let check_date = settled.as_ref().ok().copied().unwrap_or(chrono::NaiveDate::MAX);
        let read = household::read_household(v, check_date);
        let h = match (read, settled) {
            (Ok(h), Ok(_)) => h,
            (Ok(_), Err(e)) => return Err(e),
            (Err(errs), Ok(_)) => return Err(Error::Validation(errs)),
            (Err(mut errs), Err(Error::Validation(missing))) => {
                if !errs.iter().any(|e| e.path == "as_of") && v.is_object() {
                    errs.extend(missing);
                }
                return Err(Error::Validation(errs));
            }
            (Err(errs), Err(_)) => return Err(Error::Validation(errs)),
        };
        self.check_region(&h.region)?;
        Ok(h)
    }

    fn settle_date(&self, own: Option<Date>, opts: &Options) -> Result<Date> {
        opts.as_of.or(own).or(opts.default_as_of).ok_or_else(|| {
            Error::validation("as_of", "no assessment date: the household has no as_of and the caller gave none")
        })
    }

    pub(crate) fn check_region(&self, region: &str) -> Result<()> {
        if params::in_region_chain(region, |c| self.pack.known_regions.contains(c)) {
            return Ok(());
        }
        let known: Vec<&str> = self.pack.known_regions.iter().map(String::as_str).collect();
        Err(Error::validation(
            "region",
            format!(
                "region {region} is not covered by rule pack {} {} (it has parameters for: {})",
                self.pack.info.name,
                self.pack.info.version,
                known.join(", ")
            ),
        ))
    }

    /// Evaluates a validated household.
    pub fn evaluate_household(&self, h: &Household, opts: &Options) -> Result<Assessment> {
        let as_of = self.settle_date(h.as_of.map(|d| d.0), opts)?;
        self.check_region(&h.region)?;
        self.evaluate_checked(h, as_of, opts)
    }

    /// The programs on a household whose date is settled and whose region is known.
    fn evaluate_checked(&self, h: &Household, as_of: Date, opts: &Options) -> Result<Assessment> {
        Ok(self.decide(std::borrow::Cow::Borrowed(h), as_of, opts)?.into_assessment())
    }

    /// What the programs decide on a household whose date is settled and whose region
    /// is known, before it is rendered (see [`render`]).
    fn decide<'a>(&'a self, h: std::borrow::Cow<'a, Household>, as_of: Date, opts: &Options) -> Result<render::Decision<'a, Vec<Outcome>>> {
        let pack = &*self.pack;
        let lang_index = match &opts.lang {
            None => 0,
            Some(l) => match pack.manifest.languages.iter().position(|x| x == l) {
                Some(i) => i,
                None => {
                    return Err(Error::Usage(format!("language {l:?} is not one of the pack's: {}", pack.manifest.languages.join(", "))))
                }
            },
        };
        let mut session = match Session::reuse(&pack.store, &self.overrides, &h.region, as_of, h.area, opts.trace) {
            Some(s) => s,
            None => {
                let res = self.resolutions.get(&pack.store, &self.overrides, &h.region, as_of, h.area);
                Session::new(pack.store.clone(), self.overrides.clone(), res, opts.trace)
            }
        };
        let traced_params;
        let derive_params = if opts.trace {
            traced_params = derive_params(&mut session)?;
            &traced_params
        } else {
            // The same for every household of this place and day.
            match session.resolution().derive.get_or_init(|| derive_params(&mut session.fresh(false))) {
                Ok(p) => p,
                Err(e) => return Err(e.clone()),
            }
        };
        let derived = household::derive(&h, as_of, derive_params);

        let (outcomes, mut session) = match self.run_programs(&h, &derived, session, self.mode != Mode::Interpreted) {
            (Ok(o), s) => (o, s),
            (Err(Stop::Error(e)), _) => return Err(e),
            (Err(Stop::Bail), _) if self.mode == Mode::CompiledOnly => return Err(Error::Internal("the compiled evaluator gave up".into())),
            (Err(Stop::Bail), first) => {
                // Start again, interpreted, so that the trace is Rhai's alone.
                let mut session = first.fresh(opts.trace);
                if opts.trace {
                    self::derive_params(&mut session)?;
                }
                match self.run_programs(&h, &derived, session, false) {
                    (Ok(o), s) => (o, s),
                    (Err(Stop::Error(e)), _) => return Err(e),
                    (Err(Stop::Bail), _) => return Err(Error::Internal("the interpreter gave up".into())),
                }
            }
        };

        let mut totals = [rust_decimal::Decimal::ZERO; 3];
        for o in &outcomes {
            if o.status == Status::Eligible {
                totals[match o.period { Period::Monthly => 0, Period::OneOff => 1, Period::Annual => 2 }] += o.amount;
            }
        }
        let lang = pack.manifest.languages[lang_index].as_str();
        let trace = session.trace.take();
        session.keep();
        Ok(render::Decision { engine: self, h, as_of, lang, lang_index, messages: opts.messages, derived, outcomes, totals, trace })
    }

    /// Runs the programs in order: compiled when `fast` and the program has a compiled
    /// form, else interpreted by Rhai. The session comes back for the trace.
    fn run_programs(&self, h: &Household, derived: &Derived, mut session: Session, fast: bool) -> (std::result::Result<Vec<Outcome>, Stop>, Session) {
        let pack = &*self.pack;
        let mut household_val: Option<Val> = None;
        let mut household_dyn: Option<Dynamic> = None;
        let mut outcomes: Vec<Outcome> = Vec::with_capacity(pack.programs.len());
        let mut outcome_vals: Vec<Option<Val>> = Vec::with_capacity(pack.programs.len());
        for p in &pack.programs {
            session.program.clear();
            session.program.push_str(&p.id);
            let mut results = script::value::ValMap::with_capacity(p.depends_on.len());
            for &i in &p.depends_on {
                let v = outcome_vals[i].get_or_insert_with(|| outcomes[i].to_val()).clone();
                results.insert(script::value::Str::Static(pack.programs[i].key), v);
            }
            let results = Val::map(results);
            let household = household_val.get_or_insert_with(|| script::convert::household_val(h, derived)).clone();
            let outcome = match (&p.fast, fast) {
                (Ok(program), true) => {
                    let value = script::fast::Run::new(&mut session, &pack.manifest.limits).run(program, household, results);
                    match value.ok().map(script::read_outcome) {
                        Some(Ok(o)) => o,
                        _ => return (Err(Stop::Bail), session),
                    }
                }
                _ => {
                    let household = household_dyn.get_or_insert_with(|| household.to_dynamic()).clone();
                    let (value, s) = session.enter(|| {
                        let mut scope = Scope::new();
                        scope.push_constant_dynamic("household", household);
                        scope.push_constant_dynamic("results", results.to_dynamic());
                        pack.rhai.eval_ast_with_scope::<Dynamic>(&mut scope, &p.ast).map_err(|e| {
                            match session::with_current(|s| s.error.take()) {
                                Some(Some(err)) => err,
                                _ => script::rule_error(&p.id, &p.file, &e),
                            }
                        })
                    });
                    session = s;
                    let value = match value {
                        Ok(v) => v,
                        Err(e) => return (Err(Stop::Error(e)), session),
                    };
                    if !value.is_map() {
                        let message = format!(
                            "the script must end with a result map #{{ status: ..., amount: ..., period: ..., reasons: [...] }}, it returned {}",
                            value.type_name()
                        );
                        return (Err(Stop::Error(Error::Rule { program: p.id.clone(), file: p.file.clone(), line: None, message })), session);
                    }
                    match script::read_outcome(Val::from_dynamic_lossy(&value)) {
                        Ok(o) => o,
                        Err(message) => {
                            return (Err(Stop::Error(Error::Rule { program: p.id.clone(), file: p.file.clone(), line: None, message })), session)
                        }
                    }
                }
            };
            if let Some(t) = session.trace.as_mut() {
                t.push(TraceEntry::Result {
                    program: p.id.clone(),
                    status: outcome.status.as_str(),
                    category: outcome.category.as_deref().map(str::to_string),
                    amount: Money(outcome.amount),
                });
            }
            outcomes.push(outcome);
            outcome_vals.push(None);
        }
        (Ok(outcomes), session)
    }
}

/// The parameters of policy.md §0, read through the session so the trace shows them.
fn derive_params(s: &mut Session) -> Result<DeriveParams> {
    let int = |s: &mut Session, n: &str| -> Result<i64> {
        let r = s.resolve(n)?;
        r.value.as_integer().ok_or_else(|| Error::Parameter(format!("parameter `{n}` must be an integer")))
    };
    let excluded = s.resolve("income.excluded_kinds")?;
    let excluded_kinds = excluded
        .value
        .as_list()
        .ok_or_else(|| Error::Parameter("parameter `income.excluded_kinds` must be a list".into()))?
        .to_vec();
    let work = s.resolve("income.work_cost_deduction")?;
    let work_cost_deduction = work
        .value
        .as_decimal()
        .ok_or_else(|| Error::Parameter("parameter `income.work_cost_deduction` must be a decimal".into()))?;
    Ok(DeriveParams {
        excluded_kinds,
        work_cost_deduction,
        retirement_age_male: int(s, "labor.retirement_age.male")?,
        retirement_age_female: int(s, "labor.retirement_age.female")?,
    })
}

impl Engine {
    /// Problems that loading does not catch: reason codes used in a script with no
    /// message in some language, codes documented in one language only, parameters
    /// without a value on the national default or a known region.
    pub fn lint(&self) -> Vec<PackProblem> {
        let pack = &*self.pack;
        let mut problems = Vec::new();
        let mut used = BTreeSet::new();
        for p in &pack.programs {
            let source = &pack.files.files[&p.file];
            for (lineno, line) in source.lines().enumerate() {
                let mut rest = line;
                while let Some(i) = rest.find("reason(\"") {
                    let after = &rest[i + 8..];
                    let Some(end) = after.find('"') else { break };
                    let code = &after[..end];
                    used.insert(code.to_string());
                    for lang in &pack.manifest.languages {
                        if pack.catalog.entry(lang, code).is_none() {
                            problems.push(PackProblem {
                                file: p.file.clone(),
                                line: Some(lineno + 1),
                                message: format!("reason code {code} has no message in messages/{lang}.toml"),
                            });
                        }
                    }
                    rest = &after[end..];
                }
            }
        }
        let langs = &pack.manifest.languages;
        for lang in langs {
            let Some(m) = pack.catalog.by_lang.get(lang) else { continue };
            let mut codes: Vec<&String> = m.keys().collect();
            codes.sort();
            for code in codes {
                for other in langs {
                    if pack.catalog.entry(other, code).is_none() {
                        problems.push(PackProblem {
                            file: format!("messages/{lang}.toml"),
                            line: None,
                            message: format!("code {code} has a {lang} message but no {other} message"),
                        });
                    }
                }
                if m[code].basis.trim().is_empty() {
                    problems.push(PackProblem { file: format!("messages/{lang}.toml"), line: None, message: format!("code {code} has no basis") });
                }
            }
        }
        problems
    }
}
