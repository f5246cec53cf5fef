//! Python objects → JSON text, exactly.
//!
//! A household given as a dict is turned into the JSON value the core reads, with no
//! float anywhere on the way: `str` stays text, `int` becomes a JSON integer of the same
//! digits, `decimal.Decimal` becomes a JSON number of its own digits (NaN and infinities
//! become text, which the core reports as "not a decimal amount"), a `datetime.date`
//! becomes `"YYYY-MM-DD"`. A `float` is refused, wherever it is, with its JSON path: a
//! binary fraction cannot say 0.10 yuan. Every problem is collected, like the core does.

use jiuzhu_core::FieldError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use serde_json::Number;
use std::borrow::Cow;

/// Deeper documents are refused (a household is about five levels deep); the limit
/// keeps the conversion, and everything after it, far from the end of the stack.
pub const MAX_DEPTH: usize = 64;

/// At most this many problems are reported for one household.
pub const MAX_ERRORS: usize = 100;

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `decimal.Decimal`.
pub fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DECIMAL.import(py, "decimal", "Decimal")
}

/// The UTF-8 text of a Python str, borrowed from the str itself; `None` for a str that
/// is not valid Unicode (a lone surrogate).
///
/// `PyUnicode_AsUTF8AndSize` returns the str's own bytes when it is ASCII, and for other
/// text converts once and keeps the result in the object. It joined the limited API in
/// 3.10, so pyo3's `to_cow` for an `abi3-py39` build asks Python for a new `bytes`
/// object and copies it instead, about 290 instructions for a short key (callgrind).
/// Every CPython 3 exports the function (3.9's libpython too, checked with `nm -D`), so
/// it is declared here. For the short texts of a dict (keys, codes, dates, ids); not for
/// a whole household's JSON text: a str that is not all ASCII keeps the UTF-8 made for
/// it as long as it lives.
pub fn text_of<'a>(s: &'a Bound<'_, PyString>) -> Option<&'a str> {
    extern "C" {
        fn PyUnicode_AsUTF8AndSize(unicode: *mut pyo3::ffi::PyObject, size: *mut pyo3::ffi::Py_ssize_t) -> *const std::ffi::c_char;
    }
    let mut size: pyo3::ffi::Py_ssize_t = 0;
    // SAFETY: a live str (the Bound holds it) with the GIL held. The bytes returned stay
    // valid and unchanged while the str lives (a str is immutable, and the UTF-8 form
    // made for a non-ASCII one is kept until the str is freed): as long as `'a`.
    unsafe {
        let data = PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size);
        if data.is_null() {
            // a UnicodeEncodeError (lone surrogate): not raised, reported by the caller
            drop(PyErr::take(s.py()));
            return None;
        }
        Some(std::str::from_utf8_unchecked(std::slice::from_raw_parts(data.cast::<u8>(), size as usize)))
    }
}

/// Converts Python objects to JSON text, collecting every problem with its path.
pub struct Converter<'py> {
    decimal: Bound<'py, PyType>,
    date: Bound<'py, PyType>,
    datetime: Bound<'py, PyType>,
    pub errors: Vec<FieldError>,
}

/// `members` + `[2]` → `members[2]`; `members[2]` + `incomes` → `members[2].incomes`.
pub fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

pub fn push_index(path: &mut String, i: usize) {
    path.push('[');
    path.push_str(&i.to_string());
    path.push(']');
}

impl<'py> Converter<'py> {
    pub fn new(py: Python<'py>) -> PyResult<Self> {
        Ok(Converter {
            decimal: decimal_type(py)?.clone(),
            date: DATE.import(py, "datetime", "date")?.clone(),
            datetime: DATETIME.import(py, "datetime", "datetime")?.clone(),
            errors: Vec::new(),
        })
    }

    fn error(&mut self, path: &str, message: String) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(FieldError { path: path.to_string(), message });
        }
    }

    /// Appends the JSON text of `obj` to `out`; problems go to `self.errors` (with
    /// `null` written at that place). Fails only when Python itself fails (e.g. a
    /// `__str__` raising).
    ///
    /// Text, not a `serde_json::Value`: the core reads a household's text with its fast
    /// reader, while a value goes through the full one, which builds every field's JSON
    /// path as it goes; with the value's tree of maps and strings besides, a dict cost
    /// two thirds more than the same household as JSON text (callgrind, 1,000
    /// households). The text is what `json.dumps` would give for the same objects, but
    /// exact: a `Decimal` is written with its own digits, never through a float.
    pub fn write(&mut self, obj: &Bound<'py, PyAny>, path: &mut String, depth: usize, out: &mut String) -> PyResult<()> {
        if depth > MAX_DEPTH {
            self.error(path, format!("nested more than {MAX_DEPTH} levels deep"));
            out.push_str("null");
            return Ok(());
        }
        if obj.is_none() {
            out.push_str("null");
            return Ok(());
        }
        if let Ok(b) = obj.cast::<PyBool>() {
            out.push_str(if b.is_true() { "true" } else { "false" });
            return Ok(());
        }
        if let Ok(s) = obj.cast::<PyString>() {
            match text_of(s) {
                Some(text) => push_json_str(out, text),
                None => {
                    self.error(path, NOT_UNICODE.to_string());
                    out.push_str("null");
                }
            }
            return Ok(());
        }
        if let Ok(i) = obj.cast::<PyInt>() {
            return write_int(i, out);
        }
        if obj.is_instance_of::<PyFloat>() {
            let shown = shown(obj);
            self.error(
                path,
                format!("a float ({shown}) is not exact: give amounts as a str (\"1800.50\") or a decimal.Decimal"),
            );
            out.push_str("null");
            return Ok(());
        }
        if let Ok(d) = obj.cast::<PyDict>() {
            out.push('{');
            let mut first = true;
            for (k, v) in d.iter() {
                let Ok(key) = k.cast::<PyString>() else {
                    self.error(path, format!("key {} is not a str", shown(&k)));
                    continue;
                };
                let Some(key) = text_of(key) else {
                    self.error(path, format!("a key: {NOT_UNICODE}"));
                    continue;
                };
                if !first {
                    out.push(',');
                }
                first = false;
                push_json_str(out, key);
                out.push(':');
                let len = path.len();
                push_key(path, key);
                self.write(&v, path, depth + 1, out)?;
                path.truncate(len);
            }
            out.push('}');
            return Ok(());
        }
        if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
            out.push('[');
            for (i, item) in obj.try_iter()?.enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let len = path.len();
                push_index(path, i);
                self.write(&item?, path, depth + 1, out)?;
                path.truncate(len);
            }
            out.push(']');
            return Ok(());
        }
        if obj.is_instance(&self.decimal)? {
            let text = obj.str()?.to_cow()?.into_owned();
            let finite = obj.call_method0("is_finite")?.is_truthy()?;
            if finite && is_json_number(&text) {
                out.push_str(&text);
            } else {
                push_json_str(out, &text);
            }
            return Ok(());
        }
        if obj.is_instance(&self.date)? {
            if obj.is_instance(&self.datetime)? {
                self.error(path, format!("a datetime ({}): give a date, \"YYYY-MM-DD\" or datetime.date", shown(obj)));
                out.push_str("null");
                return Ok(());
            }
            push_json_str(out, &obj.call_method0("isoformat")?.str()?.to_cow()?);
            return Ok(());
        }
        // Integers of other libraries (numpy.int64 …) through `__index__`.
        if obj.hasattr("__index__").unwrap_or(false) {
            if let Ok(i) = obj.call_method0("__index__") {
                if let Ok(i) = i.cast::<PyInt>() {
                    return write_int(i, out);
                }
            }
        }
        let type_name = obj.get_type().name()?.to_cow()?.into_owned();
        self.error(path, format!("a {type_name} is not a JSON value (use dict, list, str, int, bool, None or decimal.Decimal)"));
        out.push_str("null");
        Ok(())
    }
}

/// `s` as a JSON string: `"`, `\` and the control characters escaped, the rest as is
/// (serde_json's choice; the core reads either).
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    // Nearly every text has nothing to escape: checked in one pass, copied in one piece.
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escaped.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        } else {
            out.push_str(escaped);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Whether `s` is a JSON number (`-?int frac? exp?`): a finite `Decimal`'s `str()` is
/// one (`1800.50`, `1E+3`, `-0`, `0E-8`).
fn is_json_number(s: &str) -> bool {
    serde_json::from_str::<Number>(s).is_ok()
}

const NOT_UNICODE: &str = "a str that is not valid Unicode (a lone surrogate)";

/// `repr(obj)` for a message, whatever `obj` does.
fn shown(obj: &Bound<'_, PyAny>) -> String {
    let text = obj.repr().ok().and_then(|r| r.to_cow().ok().map(Cow::into_owned)).unwrap_or_else(|| "<unprintable>".into());
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

/// A Python int as a JSON integer with the same digits, whatever its size.
fn write_int(i: &Bound<'_, PyInt>, out: &mut String) -> PyResult<()> {
    use std::fmt::Write;
    if let Ok(v) = i.extract::<i64>() {
        let _ = write!(out, "{v}");
    } else {
        out.push_str(&i.str()?.to_cow()?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_the_core() {
        let mut p = String::new();
        push_key(&mut p, "members");
        push_index(&mut p, 0);
        push_key(&mut p, "incomes");
        push_index(&mut p, 12);
        push_key(&mut p, "monthly");
        assert_eq!(p, "members[0].incomes[12].monthly");
    }

    #[test]
    fn json_strings_read_back_as_the_same_text() {
        let texts = ["", "plain", "quote \" and \\ back", "line\nfeed\r\ttab", "\u{0}\u{1}\u{1f}\u{7f}", "家庭-😀-𝔘-é", "\u{2028}\u{2029}", "end\\"];
        for t in texts {
            let mut out = String::new();
            push_json_str(&mut out, t);
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), t, "{out}");
            assert!(!out[1..out.len() - 1].bytes().any(|b| b < 0x20), "{out}");
        }
    }

    #[test]
    fn json_numbers() {
        for yes in ["0", "-0", "1800.50", "1E+3", "0E-8", "-1.5e-7", "123456789012345678901234567890.12"] {
            assert!(is_json_number(yes), "{yes}");
        }
        for no in ["NaN", "Infinity", "-Infinity", "sNaN", ".5", "1.", "+1", "0x10", ""] {
            assert!(!is_json_number(no), "{no}");
        }
    }

    #[test]
    fn decimal_text_is_a_json_number_of_the_same_value() {
        for text in ["1800.50", "1E+3", "0E-8", "-0", "123456789012345678901234567890.12"] {
            let n: Number = serde_json::from_str(text).unwrap();
            assert_eq!(n.to_string().to_ascii_uppercase(), text.to_ascii_uppercase());
        }
    }
}
