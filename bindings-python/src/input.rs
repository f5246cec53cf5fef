//! Python objects → JSON, exactly.
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
use serde_json::{Map, Number, Value};
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

/// Converts Python objects to JSON values, collecting every problem with its path.
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

    /// The JSON value of `obj`; problems go to `self.errors` (the value is then `null`
    /// at that place). Fails only when Python itself fails (e.g. a `__str__` raising).
    pub fn value(&mut self, obj: &Bound<'py, PyAny>, path: &mut String, depth: usize) -> PyResult<Value> {
        if depth > MAX_DEPTH {
            self.error(path, format!("nested more than {MAX_DEPTH} levels deep"));
            return Ok(Value::Null);
        }
        if obj.is_none() {
            return Ok(Value::Null);
        }
        if let Ok(b) = obj.cast::<PyBool>() {
            return Ok(Value::Bool(b.is_true()));
        }
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(match s.to_cow() {
                Ok(text) => Value::String(text.into_owned()),
                Err(_) => {
                    self.error(path, NOT_UNICODE.to_string());
                    Value::Null
                }
            });
        }
        if let Ok(i) = obj.cast::<PyInt>() {
            return int_value(i);
        }
        if obj.is_instance_of::<PyFloat>() {
            let shown = shown(obj);
            self.error(
                path,
                format!("a float ({shown}) is not exact: give amounts as a str (\"1800.50\") or a decimal.Decimal"),
            );
            return Ok(Value::Null);
        }
        if obj.is_instance(&self.decimal)? {
            let text = obj.str()?.to_cow()?.into_owned();
            let finite = obj.call_method0("is_finite")?.is_truthy()?;
            if finite {
                if let Ok(n) = serde_json::from_str::<Number>(&text) {
                    return Ok(Value::Number(n));
                }
            }
            return Ok(Value::String(text));
        }
        if let Ok(d) = obj.cast::<PyDict>() {
            let mut map = Map::new();
            for (k, v) in d.iter() {
                let Ok(key) = k.cast::<PyString>() else {
                    self.error(path, format!("key {} is not a str", shown(&k)));
                    continue;
                };
                let Ok(key) = key.to_cow().map(Cow::into_owned) else {
                    self.error(path, format!("a key: {NOT_UNICODE}"));
                    continue;
                };
                let len = path.len();
                push_key(path, &key);
                let value = self.value(&v, path, depth + 1)?;
                path.truncate(len);
                map.insert(key, value);
            }
            return Ok(Value::Object(map));
        }
        if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
            let mut items = Vec::new();
            for (i, item) in obj.try_iter()?.enumerate() {
                let len = path.len();
                push_index(path, i);
                items.push(self.value(&item?, path, depth + 1)?);
                path.truncate(len);
            }
            return Ok(Value::Array(items));
        }
        if obj.is_instance(&self.date)? {
            if obj.is_instance(&self.datetime)? {
                self.error(path, format!("a datetime ({}): give a date, \"YYYY-MM-DD\" or datetime.date", shown(obj)));
                return Ok(Value::Null);
            }
            return Ok(Value::String(obj.call_method0("isoformat")?.str()?.to_cow()?.into_owned()));
        }
        // Integers of other libraries (numpy.int64 …) through `__index__`.
        if obj.hasattr("__index__").unwrap_or(false) {
            if let Ok(i) = obj.call_method0("__index__") {
                if let Ok(i) = i.cast::<PyInt>() {
                    return int_value(i);
                }
            }
        }
        let type_name = obj.get_type().name()?.to_cow()?.into_owned();
        self.error(path, format!("a {type_name} is not a JSON value (use dict, list, str, int, bool, None or decimal.Decimal)"));
        Ok(Value::Null)
    }
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
fn int_value(i: &Bound<'_, PyInt>) -> PyResult<Value> {
    if let Ok(v) = i.extract::<i64>() {
        return Ok(Value::from(v));
    }
    if let Ok(v) = i.extract::<u64>() {
        return Ok(Value::from(v));
    }
    let text = i.str()?.to_cow()?.into_owned();
    Ok(serde_json::from_str::<Number>(&text).map(Value::Number).unwrap_or(Value::String(text)))
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
    fn decimal_text_is_a_json_number_of_the_same_value() {
        for text in ["1800.50", "1E+3", "0E-8", "-0", "123456789012345678901234567890.12"] {
            let n: Number = serde_json::from_str(text).unwrap();
            assert_eq!(n.to_string().to_ascii_uppercase(), text.to_ascii_uppercase());
        }
    }
}
