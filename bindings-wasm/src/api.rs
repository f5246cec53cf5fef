//! The part of the binding that does not touch JavaScript: options, errors, evaluation
//! to JSON text. Plain Rust, so it is tested on the host (`cargo test -p jiuzhu-wasm`)
//! as well as through the wasm build (tests/node.test.mjs).

use jiuzhu_core::render::Decision;
use jiuzhu_core::script::Outcome;
use jiuzhu_core::{Date, Engine, Error, FieldError, Options};

/// An error as JavaScript sees it: `kind`, a message, and `{path, message}` records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorError {
    /// validation | parameter | rule | pack | usage
    pub kind: &'static str,
    pub message: String,
    pub errors: Vec<FieldError>,
}

impl DoorError {
    pub fn usage(path: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let text = if path.is_empty() { message.clone() } else { format!("{path}: {message}") };
        DoorError { kind: "usage", message: text, errors: vec![FieldError { path: path.into(), message }] }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        DoorError::from(Error::Validation(errors))
    }

    pub fn pack(file: &str, message: impl Into<String>) -> Self {
        DoorError::from(Error::Pack(vec![jiuzhu_core::PackProblem { file: file.into(), line: None, message: message.into() }]))
    }
}

impl From<Error> for DoorError {
    fn from(e: Error) -> Self {
        DoorError { kind: e.kind(), message: e.to_string(), errors: e.field_errors() }
    }
}

/// The evaluation options of `engine.evaluate(household, options)`, already read from
/// the JavaScript object (field names as JavaScript spells them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvalOptions {
    /// `asOf`: overrides the household's `as_of`.
    pub as_of: Option<String>,
    /// `today`: used when neither `asOf` nor the household's `as_of` is given. The wasm
    /// module has no clock: the caller passes its own date.
    pub today: Option<String>,
    /// `lang`: a language of the pack (`zh`, `en` for the default pack).
    pub lang: Option<String>,
    /// `trace`: add the audit trace.
    pub trace: bool,
    /// `messages`: `false` leaves each reason's `message` out (`None`: written).
    pub messages: Option<bool>,
}

/// The option names `evaluate` accepts.
pub const OPTION_NAMES: &[&str] = &["asOf", "today", "lang", "trace", "messages"];

/// A hint for a misspelt option name (`as_of` → `asOf`).
pub fn option_hint(name: &str) -> Option<&'static str> {
    let folded: String = name.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).collect();
    OPTION_NAMES.iter().copied().find(|k| k.to_lowercase() == folded)
}

fn date_option(name: &str, v: &Option<String>) -> Result<Option<Date>, DoorError> {
    match v {
        None => Ok(None),
        Some(s) => jiuzhu_core::parse_date(s)
            .map(Some)
            .ok_or_else(|| DoorError::usage(&format!("options.{name}"), format!("not a date YYYY-MM-DD: {s:?}"))),
    }
}

impl EvalOptions {
    pub fn to_core(&self) -> Result<Options, DoorError> {
        Ok(Options {
            as_of: date_option("asOf", &self.as_of)?,
            default_as_of: date_option("today", &self.today)?,
            lang: self.lang.clone(),
            trace: self.trace,
            messages: self.messages.unwrap_or(true),
        })
    }
}

/// Evaluates household JSON text; the assessment as compact JSON text, the same bytes as
/// `jiuzhu evaluate` prints (without its newline).
pub fn evaluate_text(engine: &Engine, text: &str, opts: &EvalOptions) -> Result<String, DoorError> {
    let core_opts = opts.to_core()?;
    Ok(engine.evaluate_json(text, &core_opts)?)
}

/// [`evaluate_text`], appending the JSON to `out` (nothing on an error).
pub fn evaluate_into(engine: &Engine, text: &str, opts: &EvalOptions, out: &mut Vec<u8>) -> Result<(), DoorError> {
    let core_opts = opts.to_core()?;
    Ok(engine.evaluate_json_into(text, &core_opts, out)?)
}

/// [`evaluate_into`] up to the decision, to render into another sink (the same errors).
pub fn decide<'e>(engine: &'e Engine, text: &str, opts: &EvalOptions) -> Result<Decision<'e, Vec<Outcome>>, DoorError> {
    let core_opts = opts.to_core()?;
    Ok(engine.decide_input_here(text, &core_opts)?)
}

/// Problems found in a JavaScript value before it became JSON (NaN, Infinity, BigInt)
/// put first, then the engine's own findings on the rest of the document: every problem
/// at once, one per path.
pub fn merge_errors(before: Vec<FieldError>, engine: Option<Vec<FieldError>>) -> Vec<FieldError> {
    let mut out = before;
    if let Some(more) = engine {
        for e in more {
            if !out.iter().any(|b| b.path == e.path) {
                out.push(e);
            }
        }
    }
    out
}

/// The lines of a parameter override: `["110000:subsistence.standard=1500"]`, or an
/// object's entries `{"110000:subsistence.standard": "1500"}` as `key=value`.
pub fn with_parameters(engine: &Engine, specs: &[String]) -> Result<Engine, DoorError> {
    engine.with_parameters(specs.iter().map(String::as_str)).map_err(DoorError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::new().expect("the embedded pack loads")
    }

    fn example(name: &str) -> String {
        let path = format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path).expect("example exists")
    }

    #[test]
    fn examples_give_the_spec_figures() {
        let e = engine();
        let a: serde_json::Value = serde_json::from_str(&evaluate_text(&e, &example("household.json"), &EvalOptions::default()).unwrap()).unwrap();
        assert_eq!(a["programs"]["subsistence"]["amount"], "2245.00");
        assert_eq!(a["totals"]["annual"], "500.00");
        let a: serde_json::Value = serde_json::from_str(&evaluate_text(&e, &example("tekun.json"), &EvalOptions::default()).unwrap()).unwrap();
        assert_eq!(a["programs"]["subsistence"]["amount"], "2970.00");
        assert_eq!(a["programs"]["medical"]["amount"], "3500.00");
    }

    #[test]
    fn the_door_owns_the_clock() {
        let e = engine();
        let h = r#"{"id":"H","region":"110000","members":[{"id":"m1","relation":"head","birth_date":"1950-01-01","sex":"male"}]}"#;
        let err = evaluate_text(&e, h, &EvalOptions::default()).unwrap_err();
        assert_eq!(err.kind, "validation");
        // (core also reports a spurious "older than 130" for the dateless check: see README)
        assert!(err.errors.iter().any(|f| f.path == "as_of"), "{:?}", err.errors);
        let ok = evaluate_text(&e, h, &EvalOptions { today: Some("2025-03-01".into()), ..Default::default() }).unwrap();
        assert!(ok.contains(r#""as_of":"2025-03-01""#));
        let over = evaluate_text(&e, h, &EvalOptions { as_of: Some("2024-08-31".into()), today: Some("2025-03-01".into()), ..Default::default() }).unwrap();
        assert!(over.contains(r#""as_of":"2024-08-31""#));
    }

    #[test]
    fn bad_options_are_usage_errors_with_a_path() {
        let e = engine();
        let err = evaluate_text(&e, &example("household.json"), &EvalOptions { as_of: Some("2025-02-30".into()), ..Default::default() }).unwrap_err();
        assert_eq!((err.kind, err.errors[0].path.as_str()), ("usage", "options.asOf"));
        let err = evaluate_text(&e, &example("household.json"), &EvalOptions { lang: Some("fr".into()), ..Default::default() }).unwrap_err();
        assert_eq!(err.kind, "usage");
        assert_eq!(option_hint("as_of"), Some("asOf"));
        assert_eq!(option_hint("Lang"), Some("lang"));
        assert_eq!(option_hint("date"), None);
    }

    #[test]
    fn validation_errors_keep_every_path() {
        let e = engine();
        let h = r#"{"id":"H","region":"110000","as_of":"2025-03-01","members":[{"id":"m1","relation":"head","birth_date":"1950-01-01","sex":"male","disabilty_grade":1,"incomes":[{"kind":"wage","monthly":"-5"}]}]}"#;
        let err = evaluate_text(&e, h, &EvalOptions::default()).unwrap_err();
        let paths: Vec<&str> = err.errors.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["members[0].disabilty_grade", "members[0].incomes[0].monthly"]);
        let merged = merge_errors(
            vec![FieldError { path: "members[0].incomes[0].monthly".into(), message: "NaN is not a number".into() }],
            Some(err.errors),
        );
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].message, "NaN is not a number");
    }

    /// The wasm build aborts on a panic (there is no unwinding on wasm32), so the paths it
    /// uses must not panic on any input: hammer them with broken households on the host,
    /// where a panic is caught and fails this test.
    #[test]
    fn broken_households_never_panic() {
        let e = engine();
        let base = example("temporary-review.json");
        let mut cases: Vec<String> = vec![
            String::new(),
            "null".into(),
            "[]".into(),
            "{".into(),
            "\"x\"".into(),
            "[".repeat(10_000),
            "{\"id\":".repeat(5_000),
            r#"{"id":"H","region":"999999","as_of":"2025-03-01","members":[]}"#.into(),
            r#"{"id":"H","region":"110000","as_of":"9999-12-31","members":[{"id":"m1","relation":"head","birth_date":"0001-01-01","sex":"male"}]}"#.into(),
        ];
        let replacements = [
            ("\"2025-03-01\"", "\"2025-02-29\""),
            ("\"2025-03-01\"", "\"262143-12-31\""),
            ("\"20000.00\"", "1e400"),
            ("\"20000.00\"", "\"999999999999.99\""),
            ("\"20000.00\"", "-0"),
            ("\"1600.00\"", "\"79228162514264337593543950335\""),
            ("\"1600.00\"", "1.000"),
            ("\"1600.00\"", "\"NaN\""),
            ("\"head\"", "\"spouse\""),
            ("\"m1\"", "\"\""),
            ("\"fire\"", "\"meteor\""),
            ("\"temporary_aid_grants_12m\": 0", "\"temporary_aid_grants_12m\": 18446744073709551616"),
            ("\"temporary_aid_grants_12m\": 0", "\"temporary_aid_grants_12m\": 4294967295"),
            ("\"registered_unemployed_months\": 0", "\"registered_unemployed_months\": 4294967295"),
            ("\"homes\": 1", "\"homes\": 4294967295"),
            ("\"homes\": 1", "\"homes\": -1"),
            ("\"disability_grade\": null", "\"disability_grade\": 0"),
            ("\"disability_grade\": null", "\"disability_grade\": 255"),
            ("\"subsistence_last_amount\": null", "\"subsistence_last_amount\": \"999999999999.99\""),
            ("\"subsistence_since\": null", "\"subsistence_since\": \"0001-01-01\""),
            ("\"birth_date\": \"1975-09-09\"", "\"birth_date\": \"2025-03-01\""),
            ("\"birth_date\": \"1975-09-09\"", "\"birth_date\": \"1895-03-01\""),
        ];
        for (from, to) in replacements {
            assert!(base.contains(from), "{from}");
            cases.push(base.replacen(from, to, 1));
        }
        for case in &cases {
            for opts in [
                EvalOptions::default(),
                EvalOptions { trace: true, lang: Some("en".into()), ..Default::default() },
                EvalOptions { as_of: Some("9999-12-31".into()), ..Default::default() },
                EvalOptions { as_of: Some("0001-01-01".into()), ..Default::default() },
            ] {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| evaluate_text(&e, case, &opts)));
                assert!(r.is_ok(), "panicked on {opts:?} {}", &case[..case.len().min(200)]);
            }
        }
    }

    #[test]
    fn reforms_through_the_door() {
        let e = engine();
        let reform = with_parameters(&e, &["110000:subsistence.standard=1500".to_string()]).unwrap();
        let a = evaluate_text(&reform, &example("tekun.json"), &EvalOptions::default()).unwrap();
        // tekun: 1.3 × 1500 × 2 − 800 = 3100.00
        assert!(a.contains(r#""amount":"3100.00""#), "{a}");
        assert_eq!(with_parameters(&e, &["nonsense".to_string()]).unwrap_err().kind, "usage");
    }
}
