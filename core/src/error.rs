//! Errors. Every error names where the problem is: a JSON path for a household, a
//! file and line for a rule pack, a parameter with region and date for a lookup.

use serde::Serialize;
use std::fmt;

/// One problem in a household profile, located by its JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path such as `members[1].incomes[0].monthly` (empty for the document itself).
    pub path: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// A problem in a rule pack, located by file and (where known) line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackProblem {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for PackProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file, l, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Everything that can go wrong between JSON text and an assessment.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The household is not valid: every problem found, each with its path.
    Validation(Vec<FieldError>),
    /// A parameter did not resolve, or the region is unknown to the pack.
    Parameter(String),
    /// A program's script failed (including sandbox limits).
    Rule {
        program: String,
        /// The script file, relative to the pack folder.
        file: String,
        line: Option<usize>,
        message: String,
    },
    /// The rule pack could not be loaded or compiled.
    Pack(Vec<PackProblem>),
    /// Bad use of the API (e.g. an unknown language or a malformed override).
    Usage(String),
    /// A bug in jiuzhu itself (a caught panic): never the caller's fault.
    Internal(String),
}

impl Error {
    pub fn validation(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError {
            path: path.into(),
            message: message.into(),
        }])
    }

    /// The kind as a short stable word, for JSON error records and bindings.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Validation(_) => "validation",
            Error::Parameter(_) => "parameter",
            Error::Rule { .. } => "rule",
            Error::Pack(_) => "pack",
            Error::Usage(_) => "usage",
            Error::Internal(_) => "internal",
        }
    }

    /// The error as a list of {path, message}: the shape every door reports.
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Error::Validation(errs) => errs.clone(),
            Error::Parameter(m) | Error::Usage(m) | Error::Internal(m) => vec![FieldError {
                path: String::new(),
                message: m.clone(),
            }],
            Error::Rule { program, .. } => vec![FieldError {
                path: format!("programs.{program}"),
                message: self.to_string(),
            }],
            Error::Pack(problems) => problems
                .iter()
                .map(|p| FieldError {
                    path: p.file.clone(),
                    message: p.to_string(),
                })
                .collect(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Validation(errs) => {
                write!(f, "invalid household ({} error{})", errs.len(), if errs.len() == 1 { "" } else { "s" })?;
                for e in errs {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
            Error::Parameter(m) => write!(f, "parameter error: {m}"),
            Error::Rule { program, file, line, message } => match line {
                Some(l) => write!(f, "rule error in program `{program}` ({file}:{l}): {message}"),
                None => write!(f, "rule error in program `{program}`: {message}"),
            },
            Error::Pack(problems) => {
                write!(f, "rule pack problem{}:", if problems.len() == 1 { "" } else { "s" })?;
                for p in problems {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
            Error::Usage(m) => write!(f, "{m}"),
            Error::Internal(m) => write!(f, "internal error (a bug in jiuzhu, please report it): {m}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
