//! # jiuzhu-wasm
//!
//! The jiuzhu engine for JavaScript, through wasm-bindgen (`wasm32-unknown-unknown`; an
//! ES module for the web, a CommonJS module for Node). The default rule pack is
//! embedded.
//!
//! ```js
//! import init, { Engine } from "./pkg/jiuzhu_wasm.js";
//! await init();
//! const engine = new Engine();
//! const a = engine.evaluate(household, { asOf: "2025-03-01", lang: "en" });
//! a.programs.subsistence.amount;   // "2245.00": money is always a decimal string
//! ```
//!
//! * The household is an object or JSON text. A plain object is written into wasm
//!   memory as words by js/fast.js and read with the household's own field readers
//!   (`jiuzhu_core::household::words`); at anything unusual it becomes JSON text through
//!   `JSON.stringify`, after a check that refuses what JSON cannot hold (NaN,
//!   ±Infinity, BigInt) with the path of each; amounts are best written as strings.
//! * The assessment comes back as the plain object `JSON.parse` would give of the
//!   engine's JSON (money as strings, never JS numbers), built from a tape of the events
//!   that text is written from (`sink`); `evaluateJson` returns the JSON text itself, the
//!   same bytes as `jiuzhu evaluate`.
//! * There is no clock inside: a household without `as_of` needs `asOf` or `today`
//!   in the options.
//! * Errors are thrown as `Error`s with `kind` (validation | parameter | rule | pack |
//!   usage) and `errors: [{path, message}]`.
//! * Nothing here panics on bad input: every path returns a `Result` (the wasm build
//!   aborts on a panic, since wasm32 has no unwinding).

pub mod alloc;
pub mod api;
pub mod mem;
pub mod sink;
pub mod text;

#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static ALLOCATOR: alloc::Pooled<talc::wasm::WasmDynamicTalc> = alloc::Pooled::new(talc::wasm::new_wasm_dynamic_allocator());

use api::{DoorError, EvalOptions};
use jiuzhu_core::render::Decision;
use jiuzhu_core::script::Outcome;
use jiuzhu_core::{FieldError, Household, Options};
use js_sys::{Array, Object, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = include_str!("types.d.ts");

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "Household | string")]
    pub type HouseholdInput;
    #[wasm_bindgen(typescript_type = "EvaluateOptions")]
    pub type EvaluateOptionsJs;
    #[wasm_bindgen(typescript_type = "Assessment")]
    pub type AssessmentJs;
    #[wasm_bindgen(typescript_type = "PackFilesInput")]
    pub type PackFilesJs;
    #[wasm_bindgen(typescript_type = "string[] | Record<string, string>")]
    pub type OverridesJs;
    #[wasm_bindgen(typescript_type = "string[]")]
    pub type StringList;
    #[wasm_bindgen(typescript_type = "PackInfo")]
    pub type PackInfoJs;

    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(s: &str);
}

/// Reports a panic on the console before the module aborts. No panic is expected (every
/// path returns a `Result`); should one happen, the message says where.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| console_error(&format!("jiuzhu-wasm: internal error (please report): {info}"))));
    });
}

/// The module's memory, for js/fast.js (the buffers of `Engine.__inputBuffer` and
/// `Engine.__outputBuffer` are in it).
#[wasm_bindgen(js_name = __memory, skip_typescript)]
pub fn memory() -> JsValue {
    wasm_bindgen::memory()
}

/// A compiled rule pack, ready to evaluate households.
#[wasm_bindgen(js_name = Engine)]
pub struct WasmEngine {
    inner: jiuzhu_core::Engine,
    io: Buffers,
    /// The options last read by `__parseOptions`, for `__evaluateBufferParsed`.
    parsed: EvalOptions,
}

/// The buffers of the text path (js/fast.js): the household's UTF-8 text, written by
/// JavaScript straight into wasm memory, and the assessment as UTF-8 and as UTF-16, read
/// by JavaScript from it. Kept between calls so that an evaluation allocates none of them.
#[derive(Default)]
struct Buffers {
    input: Vec<u8>,
    json: Vec<u8>,
    /// The assessment's text (`__evaluateBuffer`), or the texts of its tape.
    utf16: Vec<u16>,
    /// The last assessment's tape (`__evaluateBufferObject`), and the names tapes give
    /// by id.
    tape: sink::Tape,
    /// A household object as words and the UTF-8 bytes of its strings, written by
    /// js/fast.js (jiuzhu_core::household::words). Made once at their full size and
    /// never moved, so JavaScript keeps their addresses.
    words: Vec<i32>,
    words_text: Vec<u8>,
}

/// The room of the words buffers: far more than any valid household needs (a household
/// that does not fit takes the text path).
const WORDS: usize = 16 * 1024;
const WORDS_TEXT: usize = 64 * 1024;

/// A buffer that grew past this (a huge household) is given back after the call.
const KEEP_BYTES: usize = 1 << 20;

impl Buffers {
    fn trim(&mut self) {
        if self.input.capacity() > KEEP_BYTES {
            self.input = Vec::new();
        }
        if self.json.capacity() > KEEP_BYTES {
            self.json = Vec::new();
        }
        if self.utf16.capacity() * 2 > KEEP_BYTES {
            self.utf16 = Vec::new();
        }
        if self.tape.capacity() > KEEP_BYTES {
            self.tape.shrink();
        }
    }
}

impl From<jiuzhu_core::Engine> for WasmEngine {
    fn from(inner: jiuzhu_core::Engine) -> Self {
        WasmEngine { inner, io: Buffers::default(), parsed: EvalOptions::default() }
    }
}

#[wasm_bindgen(js_class = Engine)]
impl WasmEngine {
    /// The engine with the default rule pack embedded in this module.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<WasmEngine, JsValue> {
        install_panic_hook();
        jiuzhu_core::Engine::new().map(WasmEngine::from).map_err(|e| to_js(DoorError::from(e)))
    }

    /// An engine for your own rule pack: an object (or a `Map`) from path relative to the
    /// pack folder to the file's text, e.g. `{"pack.toml": "...", "programs/housing.rhai":
    /// "..."}`. Files outside `pack.toml`, `parameters/`, `programs/`, `messages/` are
    /// ignored. Every problem is reported at once (`kind: "pack"`, paths are file names).
    #[wasm_bindgen(js_name = fromPack)]
    pub fn from_pack(files: PackFilesJs) -> Result<WasmEngine, JsValue> {
        install_panic_hook();
        let entries = read_pack_files(files.as_ref()).map_err(to_js)?;
        let files = jiuzhu_core::PackFiles::from_map(entries);
        jiuzhu_core::Engine::from_files(files).map(WasmEngine::from).map_err(|e| to_js(DoorError::from(e)))
    }

    /// The same compiled pack with parameter overrides (a reform):
    /// `["110000:subsistence.standard=1500"]` or `{"subsistence.standard": "1500"}`.
    #[wasm_bindgen(js_name = withParameters)]
    pub fn with_parameters(&self, overrides: OverridesJs) -> Result<WasmEngine, JsValue> {
        let specs = read_overrides(overrides.as_ref()).map_err(to_js)?;
        api::with_parameters(&self.inner, &specs).map(WasmEngine::from).map_err(to_js)
    }

    /// Evaluates a household (an object or JSON text) and returns the assessment as a
    /// plain object; money figures are decimal strings ("2245.00").
    pub fn evaluate(&self, household: HouseholdInput, options: Option<EvaluateOptionsJs>) -> Result<AssessmentJs, JsValue> {
        let text = self.evaluate_to_text(household.as_ref(), options.as_ref().map(AsRef::as_ref))?;
        JSON::parse(&text).map(JsCast::unchecked_into).map_err(|e| to_js(DoorError::usage("", format!("cannot parse the assessment: {}", describe_js_error(&e)))))
    }

    /// Like `evaluate`, but returns the assessment as compact JSON text: the same bytes as
    /// `jiuzhu evaluate` prints (without the final newline).
    #[wasm_bindgen(js_name = evaluateJson)]
    pub fn evaluate_json(&self, household: HouseholdInput, options: Option<EvaluateOptionsJs>) -> Result<String, JsValue> {
        self.evaluate_to_text(household.as_ref(), options.as_ref().map(AsRef::as_ref))
    }

    /// The text path's input buffer, with room for at least `capacity` bytes: its address
    /// in wasm memory (js/fast.js writes the household's UTF-8 text there).
    #[wasm_bindgen(js_name = __inputBuffer, skip_typescript)]
    pub fn input_buffer(&mut self, capacity: usize) -> usize {
        let input = &mut self.io.input;
        input.clear();
        input.reserve(capacity);
        input.as_mut_ptr() as usize
    }

    /// Evaluates the first `len` bytes of the input buffer (the household's JSON text) into
    /// the output buffer as UTF-16; returns the number of UTF-16 units (the address is
    /// `__outputBuffer()`). Errors are thrown as by `evaluateJson`.
    #[wasm_bindgen(js_name = __evaluateBuffer, skip_typescript)]
    pub fn evaluate_buffer(&mut self, len: usize, options: Option<EvaluateOptionsJs>) -> Result<usize, JsValue> {
        let result = read_options(options.as_ref().map(AsRef::as_ref)).map_err(to_js).and_then(|opts| self.evaluate_buffer_with(len, &opts));
        self.io.trim();
        result
    }

    /// Reads an options object for `__evaluateBufferParsed` (and throws as `evaluate`
    /// does on a bad one, keeping the options read before). Reading one from wasm crosses
    /// into JavaScript for each key and each text (≈ 1 µs a key): js/fast.js reads an
    /// object again only when it is another object or its values changed.
    #[wasm_bindgen(js_name = __parseOptions, skip_typescript)]
    pub fn parse_options(&mut self, options: Option<EvaluateOptionsJs>) -> Result<(), JsValue> {
        self.parsed = read_options(options.as_ref().map(AsRef::as_ref)).map_err(to_js)?;
        Ok(())
    }

    /// `__evaluateBuffer` with the options of the last `__parseOptions`.
    #[wasm_bindgen(js_name = __evaluateBufferParsed, skip_typescript)]
    pub fn evaluate_buffer_parsed(&mut self, len: usize) -> Result<usize, JsValue> {
        let opts = std::mem::take(&mut self.parsed);
        let result = self.evaluate_buffer_with(len, &opts);
        self.parsed = opts;
        self.io.trim();
        result
    }

    /// The address of the output buffer of the last `__evaluateBuffer`.
    #[wasm_bindgen(js_name = __outputBuffer, skip_typescript)]
    pub fn output_buffer(&self) -> usize {
        self.io.utf16.as_ptr() as usize
    }

    /// Evaluates the first `len` bytes of the input buffer (the household's JSON text) into
    /// a tape, for js/fast.js to build the assessment object from (src/sink.rs); returns
    /// the tape's address (32-bit words, aligned). Its header: the address of its text
    /// (UTF-16), the text's length in units, and 1; or 0 when there is no tape, and the
    /// text is the assessment's JSON (for JSON.parse). Names with ids below `known` (those
    /// JavaScript holds) go as ids. Errors are thrown as by `evaluateJson`.
    #[wasm_bindgen(js_name = __evaluateBufferObject, skip_typescript)]
    pub fn evaluate_buffer_object(&mut self, len: usize, known: u32, options: Option<EvaluateOptionsJs>) -> Result<usize, JsValue> {
        let result = read_options(options.as_ref().map(AsRef::as_ref)).map_err(to_js).and_then(|opts| self.evaluate_object_with(len, known, &opts));
        self.io.trim();
        result
    }

    /// `__evaluateBufferObject` with the options of the last `__parseOptions`.
    #[wasm_bindgen(js_name = __evaluateBufferObjectParsed, skip_typescript)]
    pub fn evaluate_buffer_object_parsed(&mut self, len: usize, known: u32) -> Result<usize, JsValue> {
        let opts = std::mem::take(&mut self.parsed);
        let result = self.evaluate_object_with(len, known, &opts);
        self.parsed = opts;
        self.io.trim();
        result
    }

    /// The household's field names, whose positions the words of
    /// `__evaluateWordsParsed` use (the same for every engine).
    #[wasm_bindgen(js_name = __householdFields, skip_typescript)]
    pub fn household_fields() -> StringList {
        strings(jiuzhu_core::household::words::FIELDS.iter().copied()).unchecked_into()
    }

    /// The address of the words buffer (room for its 16,384 words, js/fast.js writes
    /// there); the strings' bytes go to `__wordsTextBuffer()` (65,536 bytes).
    #[wasm_bindgen(js_name = __wordsBuffer, skip_typescript)]
    pub fn words_buffer(&mut self) -> usize {
        let io = &mut self.io;
        if io.words.capacity() < WORDS {
            io.words = Vec::with_capacity(WORDS);
            io.words_text = Vec::with_capacity(WORDS_TEXT);
        }
        io.words.as_ptr() as usize
    }

    /// The address of the strings' bytes of the words (after `__wordsBuffer`).
    #[wasm_bindgen(js_name = __wordsTextBuffer, skip_typescript)]
    pub fn words_text_buffer(&self) -> usize {
        self.io.words_text.as_ptr() as usize
    }

    /// Evaluates the household of the first `words` words and `bytes` bytes of the words
    /// buffers, with the options of the last `__parseOptions`, into the output buffer as
    /// `__evaluateBuffer` does; returns the number of UTF-16 units, or 0xFFFFFFFF when
    /// the words reader gave up (then the text path takes the household, and reports
    /// its problems). Errors after reading (region, language) are thrown as the text
    /// path throws them.
    #[wasm_bindgen(js_name = __evaluateWordsParsed, skip_typescript)]
    pub fn evaluate_words_parsed(&mut self, words: usize, bytes: usize) -> Result<u32, JsValue> {
        let Some((h, opts)) = self.words_household(words, bytes)? else { return Ok(u32::MAX) };
        let io = &mut self.io;
        io.json.clear();
        let done = self.inner.decide_owned_here(h, &opts).map(|d| d.write_json(&mut io.json)).map_err(|e| to_js(DoorError::from(e)));
        io.trim();
        done?;
        Ok(text::utf8_to_utf16(&io.json, &mut io.utf16) as u32)
    }

    /// `__evaluateWordsParsed` into a tape, as `__evaluateBufferObject` makes one: the
    /// tape's address, or 0 when the words reader gave up.
    #[wasm_bindgen(js_name = __evaluateWordsObjectParsed, skip_typescript)]
    pub fn evaluate_words_object_parsed(&mut self, words: usize, bytes: usize, known: u32) -> Result<usize, JsValue> {
        let Some((h, opts)) = self.words_household(words, bytes)? else { return Ok(0) };
        let done = match self.inner.decide_owned_here(h, &opts) {
            Ok(decision) => Ok(tape_of(&mut self.io, &decision, known)),
            Err(e) => Err(to_js(DoorError::from(e))),
        };
        self.io.trim();
        done
    }

    /// Program ids, in run order.
    #[wasm_bindgen(getter)]
    pub fn programs(&self) -> StringList {
        strings(self.inner.program_ids()).unchecked_into()
    }

    /// The region codes the pack has parameters for (a code below one of them, such as a
    /// district of a covered city, is covered too).
    #[wasm_bindgen(getter)]
    pub fn regions(&self) -> StringList {
        strings(self.inner.regions().iter().map(String::as_str)).unchecked_into()
    }

    /// The pack's message languages; the first is the default.
    #[wasm_bindgen(getter)]
    pub fn languages(&self) -> StringList {
        strings(self.inner.manifest().languages.iter().map(String::as_str)).unchecked_into()
    }

    /// `{name, version, digest}` of the pack.
    #[wasm_bindgen(getter, js_name = packInfo)]
    pub fn pack_info(&self) -> PackInfoJs {
        let info = self.inner.pack_info();
        let o = Object::new();
        set(&o, "name", &info.name.as_str().into());
        set(&o, "version", &info.version.as_str().into());
        set(&o, "digest", &info.digest.as_str().into());
        o.unchecked_into()
    }
}

impl WasmEngine {
    fn evaluate_buffer_with(&mut self, len: usize, opts: &EvalOptions) -> Result<usize, JsValue> {
        let io = &mut self.io;
        let text = input_text(&mut io.input, len)?;
        io.json.clear();
        api::evaluate_into(&self.inner, text, opts, &mut io.json).map_err(to_js)?;
        Ok(text::utf8_to_utf16(&io.json, &mut io.utf16))
    }

    fn evaluate_object_with(&mut self, len: usize, known: u32, opts: &EvalOptions) -> Result<usize, JsValue> {
        let io = &mut self.io;
        let text = input_text(&mut io.input, len)?;
        let decision = api::decide(&self.inner, text, opts).map_err(to_js)?;
        Ok(tape_of(io, &decision, known))
    }

    /// The household of the words buffers (see `__evaluateWordsParsed`) and the options
    /// of the last `__parseOptions`; `None` when the words reader gave up.
    fn words_household(&mut self, words: usize, bytes: usize) -> Result<Option<(Household, Options)>, JsValue> {
        let io = &mut self.io;
        if words > io.words.capacity() || bytes > io.words_text.capacity() {
            return Ok(None);
        }
        // SAFETY: JavaScript wrote that many words and bytes into the reserved capacity;
        // neither i32 nor u8 has invalid values, so they are initialised whatever it wrote.
        unsafe {
            io.words.set_len(words);
            io.words_text.set_len(bytes);
        }
        let Ok(text) = text::from_utf8(&io.words_text) else { return Ok(None) };
        let opts = self.parsed.to_core().map_err(to_js)?;
        Ok(self.inner.read_words(&io.words, text, &opts).map(|h| (h, opts)))
    }

    fn evaluate_to_text(&self, household: &JsValue, options: Option<&JsValue>) -> Result<String, JsValue> {
        let opts = read_options(options).map_err(to_js)?;
        let (text, problems) = household_text(household).map_err(to_js)?;
        let result = api::evaluate_text(&self.inner, &text, &opts);
        if problems.is_empty() {
            return result.map_err(to_js);
        }
        // NaN and friends became null in the JSON text: report them where they were, with
        // whatever else the engine found in the rest of the document.
        let engine_errors = match result {
            Err(e) if e.kind == "validation" => Some(e.errors),
            _ => None,
        };
        Err(to_js(DoorError::validation(api::merge_errors(problems, engine_errors))))
    }
}

/// Writes the tape of `decision` after its header (src/sink.rs), or, if the sink gave
/// up, its JSON text; returns the tape's address.
fn tape_of(io: &mut Buffers, decision: &Decision<'_, Vec<Outcome>>, known: u32) -> usize {
    let (units, tape) = match io.tape.write(decision, known, &mut io.utf16) {
        Some(units) => (units, 1),
        None => {
            // Never expected (see src/sink.rs): the JSON text instead.
            io.json.clear();
            decision.write_json(&mut io.json);
            (text::utf8_to_utf16(&io.json, &mut io.utf16), 0)
        }
    };
    let words = &mut io.tape.words;
    words[..sink::HEADER].copy_from_slice(&[io.utf16.as_ptr() as i32, units as i32, tape]);
    words.as_ptr() as usize
}

/// The household's text: the first `len` bytes of the input buffer, which JavaScript
/// wrote.
fn input_text(input: &mut Vec<u8>, len: usize) -> Result<&str, JsValue> {
    if len > input.capacity() {
        return Err(to_js(DoorError::usage("", "the household text is longer than its buffer")));
    }
    // SAFETY: JavaScript wrote `len` bytes into the reserved capacity; u8 has no invalid
    // values, so the bytes are initialised whatever it wrote.
    unsafe { input.set_len(len) };
    // A JS string encoded by Buffer.write or TextEncoder is always valid UTF-8.
    text::from_utf8(input).map_err(|_| to_js(DoorError::validation(vec![FieldError { path: String::new(), message: "the household text is not UTF-8".into() }])))
}

// ---------------------------------------------------------------------------------------
// JavaScript values in
// ---------------------------------------------------------------------------------------

/// Deeper than this, the engine refuses the document anyway (and a cycle stops here).
const MAX_DEPTH: usize = 64;
const MAX_PROBLEMS: usize = 100;
/// Longer arrays are refused before JSON.stringify (the engine allows 100 items a list).
const MAX_ARRAY: u32 = 100_000;

/// The household as JSON text, with the problems JSON.stringify would hide.
fn household_text(v: &JsValue) -> Result<(String, Vec<FieldError>), DoorError> {
    if let Some(s) = v.as_string() {
        return Ok((s, Vec::new()));
    }
    if !v.is_object() || v.is_function() {
        let found = js_type(v);
        return Err(DoorError::validation(vec![FieldError {
            path: String::new(),
            message: format!("expected a household object or its JSON text, found {found}"),
        }]));
    }
    let mut problems = Vec::new();
    if let Err(unreadable) = scan(v, &mut String::new(), 0, &mut problems) {
        problems.push(unreadable);
        return Err(DoorError::validation(problems));
    }
    let text = if problems.iter().any(|p| p.message.contains("BigInt")) {
        // JSON.stringify throws on a BigInt: write null there (it is reported already) so
        // the engine still checks the rest of the document.
        let replacer = Closure::<dyn FnMut(JsValue, JsValue) -> JsValue>::new(|_key: JsValue, value: JsValue| {
            if value.is_bigint() { JsValue::NULL } else { value }
        });
        JSON::stringify_with_replacer(v, replacer.as_ref())
    } else {
        JSON::stringify(v)
    };
    let text = text.map_err(|e| {
        DoorError::validation(vec![FieldError { path: String::new(), message: format!("cannot convert to JSON: {}", describe_js_error(&e)) }])
    })?;
    match text.as_string() {
        Some(t) => Ok((t, problems)),
        None => Err(DoorError::validation(vec![FieldError { path: String::new(), message: "cannot convert to JSON".into() }])),
    }
}

/// Walks a value the way JSON.stringify will, recording the values JSON cannot hold.
/// Only calls that catch are used (a Proxy trap or a getter may throw): a throw stops the
/// walk with an error at its path.
fn scan(v: &JsValue, path: &mut String, depth: usize, out: &mut Vec<FieldError>) -> Result<(), FieldError> {
    if out.len() >= MAX_PROBLEMS || depth > MAX_DEPTH {
        return Ok(());
    }
    if let Some(f) = v.as_f64() {
        if !f.is_finite() {
            let what = if f.is_nan() { "NaN" } else if f > 0.0 { "Infinity" } else { "-Infinity" };
            out.push(FieldError { path: path.clone(), message: format!("{what} is not a number JSON can hold; write amounts as decimal strings such as \"1800.50\"") });
        }
        return Ok(());
    }
    if v.is_bigint() {
        out.push(FieldError { path: path.clone(), message: "a BigInt is not JSON; write amounts as decimal strings such as \"1800.50\"".into() });
        return Ok(());
    }
    if !v.is_object() || v.is_function() {
        return Ok(());
    }
    let unreadable = |path: &str, e: JsValue| FieldError { path: path.to_string(), message: format!("cannot read: {}", describe_js_error(&e)) };
    // An object with toJSON (a Date, say) is written as toJSON says; leave it to the engine.
    if Reflect::get(v, &"toJSON".into()).map_err(|e| unreadable(path, e))?.is_function() {
        return Ok(());
    }
    let mark = path.len();
    if Array::is_array(v) {
        let len = Reflect::get(v, &"length".into()).map_err(|e| unreadable(path, e))?.as_f64().unwrap_or(0.0);
        if len > MAX_ARRAY as f64 {
            // No household list is anywhere near this long; do not even stringify it.
            return Err(FieldError { path: path.clone(), message: format!("an array of {len} items (a household has at most 30 members and 100 items in a list)") });
        }
        for i in 0..(len.max(0.0) as u32) {
            let item = Reflect::get_u32(v, i).map_err(|e| unreadable(path, e))?;
            path.push_str(&format!("[{i}]"));
            scan(&item, path, depth + 1, out)?;
            path.truncate(mark);
            if out.len() >= MAX_PROBLEMS {
                break;
            }
        }
        return Ok(());
    }
    for name in own_enumerable_keys(v).map_err(|e| unreadable(path, e))? {
        let item = Reflect::get(v, &JsValue::from_str(&name)).map_err(|e| unreadable(path, e))?;
        if item.is_undefined() || item.is_function() || item.is_symbol() {
            continue; // JSON.stringify leaves these out
        }
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(&name);
        scan(&item, path, depth + 1, out)?;
        path.truncate(mark);
    }
    Ok(())
}

/// The own enumerable string keys of an object, in order (what `Object.keys` gives), with
/// calls that catch a throwing Proxy trap.
fn own_enumerable_keys(v: &JsValue) -> Result<Vec<String>, JsValue> {
    let obj: &Object = v.unchecked_ref();
    let mut out = Vec::new();
    for key in Reflect::own_keys(v)?.iter() {
        let Some(name) = key.as_string() else { continue }; // a Symbol
        let descriptor = Reflect::get_own_property_descriptor(obj, &key)?;
        if descriptor.is_object() && Reflect::get(&descriptor, &"enumerable".into())?.as_bool() == Some(true) {
            out.push(name);
        }
    }
    Ok(out)
}

/// `[key, value]` pairs of an object's own enumerable string keys, reading safely.
fn entries(v: &JsValue) -> Result<Vec<(String, JsValue)>, JsValue> {
    own_enumerable_keys(v)?.into_iter().map(|k| Reflect::get(v, &JsValue::from_str(&k)).map(|val| (k, val))).collect()
}

fn read_options(v: Option<&JsValue>) -> Result<EvalOptions, DoorError> {
    let mut o = EvalOptions::default();
    let Some(v) = v else { return Ok(o) };
    if v.is_undefined() || v.is_null() {
        return Ok(o);
    }
    if !v.is_object() || Array::is_array(v) || v.is_function() {
        return Err(DoorError::usage("options", format!("expected an object such as {{asOf: \"2025-03-01\", lang: \"en\"}}, found {}", js_type(v))));
    }
    let pairs = entries(v).map_err(|e| DoorError::usage("options", format!("cannot read: {}", describe_js_error(&e))))?;
    for (name, value) in pairs {
        if value.is_undefined() || value.is_null() {
            continue;
        }
        let path = format!("options.{name}");
        let string = |value: &JsValue| value.as_string().ok_or_else(|| DoorError::usage(&path, format!("expected a string, found {}", js_type(value))));
        let boolean = |value: &JsValue| value.as_bool().ok_or_else(|| DoorError::usage(&path, format!("expected true or false, found {}", js_type(value))));
        match name.as_str() {
            "asOf" => o.as_of = Some(string(&value)?),
            "today" => o.today = Some(string(&value)?),
            "lang" => o.lang = Some(string(&value)?),
            "trace" => o.trace = boolean(&value)?,
            "messages" => o.messages = Some(boolean(&value)?),
            _ => {
                let hint = api::option_hint(&name).map(|k| format!(" (did you mean `{k}`?)")).unwrap_or_default();
                return Err(DoorError::usage(&path, format!("unknown option{hint}; the options are {}", api::OPTION_NAMES.join(", "))));
            }
        }
    }
    Ok(o)
}

fn read_pack_files(v: &JsValue) -> Result<Vec<(String, String)>, DoorError> {
    let pairs: Vec<(JsValue, JsValue)> = if v.is_instance_of::<js_sys::Map>() {
        let map: &js_sys::Map = v.unchecked_ref();
        let mut pairs = Vec::new();
        map.for_each(&mut |value, key| pairs.push((key, value)));
        pairs
    } else if v.is_object() && !Array::is_array(v) && !v.is_function() {
        entries(v)
            .map_err(|e| DoorError::usage("files", format!("cannot read: {}", describe_js_error(&e))))?
            .into_iter()
            .map(|(k, val)| (JsValue::from_str(&k), val))
            .collect()
    } else {
        return Err(DoorError::usage("files", format!("expected an object from path to file text, found {}", js_type(v))));
    };
    let mut out = Vec::with_capacity(pairs.len());
    let mut bad = Vec::new();
    for (k, val) in pairs {
        let Some(path) = k.as_string() else {
            bad.push(jiuzhu_core::PackProblem { file: String::new(), line: None, message: format!("a file path must be a string, found {}", js_type(&k)) });
            continue;
        };
        match val.as_string() {
            Some(text) => out.push((path, text)),
            None => bad.push(jiuzhu_core::PackProblem { file: path, line: None, message: format!("expected the file's text as a string, found {}", js_type(&val)) }),
        }
    }
    if !bad.is_empty() {
        return Err(DoorError::from(jiuzhu_core::Error::Pack(bad)));
    }
    Ok(out)
}

fn read_overrides(v: &JsValue) -> Result<Vec<String>, DoorError> {
    let bad = |what: &JsValue| DoorError::usage("overrides", format!("expected [\"[REGION:]PARAM=VALUE\", ...] or {{\"[REGION:]PARAM\": \"VALUE\"}}, found {}", js_type(what)));
    let unreadable = |e: JsValue| DoorError::usage("overrides", format!("cannot read: {}", describe_js_error(&e)));
    if Array::is_array(v) {
        let len = Reflect::get(v, &"length".into()).map_err(unreadable)?.as_f64().unwrap_or(0.0);
        let mut out = Vec::new();
        for i in 0..(len.clamp(0.0, 100_000.0) as u32) {
            let s = Reflect::get_u32(v, i).map_err(unreadable)?;
            out.push(s.as_string().ok_or_else(|| bad(&s))?);
        }
        return Ok(out);
    }
    if v.is_object() && !v.is_function() {
        let mut out = Vec::new();
        for (k, val) in entries(v).map_err(unreadable)? {
            let text = match val.as_string() {
                Some(s) => s,
                None => return Err(DoorError::usage(&format!("overrides.{k}"), format!("expected the value as a decimal string such as \"1500.00\", found {}", js_type(&val)))),
            };
            out.push(format!("{k}={text}"));
        }
        return Ok(out);
    }
    Err(bad(v))
}

// ---------------------------------------------------------------------------------------
// JavaScript values out
// ---------------------------------------------------------------------------------------

fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> Array {
    items.into_iter().map(JsValue::from_str).collect()
}

fn set(o: &Object, key: &str, value: &JsValue) {
    // Setting a plain property on a fresh plain object cannot fail.
    let _ = Reflect::set(o, &key.into(), value);
}

/// The thrown error: an `Error` whose message is the engine's text, with `kind` and
/// `errors: [{path, message}]`.
fn to_js(e: DoorError) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    err.set_name("JiuzhuError");
    let list = Array::new();
    for f in &e.errors {
        let o = Object::new();
        set(&o, "path", &f.path.as_str().into());
        set(&o, "message", &f.message.as_str().into());
        list.push(&o);
    }
    set(&err, "kind", &e.kind.into());
    set(&err, "errors", &list);
    err.into()
}

fn js_type(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if Array::is_array(v) {
        "an array".into()
    } else {
        match v.js_typeof().as_string().as_deref() {
            Some("object") => "an object".into(),
            Some("undefined") => "undefined".into(),
            Some(t) => format!("a {t}"),
            None => "a value".into(),
        }
    }
}

fn describe_js_error(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| "unknown error".into())
}
