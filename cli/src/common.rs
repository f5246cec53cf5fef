//! What several subcommands share: loading the pack, reading input, exit codes.

use jiuzhu_core::{Date, Engine, Error};
use std::io::Read;
use std::path::Path;

pub const OK: u8 = 0;
pub const FAILED: u8 = 1;
pub const BAD_INPUT: u8 = 2;

/// The exit code for an error: bad input or a bad pack is 2, a failed evaluation 1.
pub fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Validation(_) | Error::Usage(_) | Error::Pack(_) => BAD_INPUT,
        Error::Parameter(_) | Error::Rule { .. } | Error::Internal(_) => FAILED,
    }
}

/// The embedded pack, or the one in `dir`.
pub fn load_engine(dir: Option<&Path>) -> Result<Engine, Error> {
    match dir {
        Some(d) => Engine::from_dir(d),
        None => Engine::new(),
    }
}

pub fn parse_date_arg(s: &str) -> Result<Date, String> {
    jiuzhu_core::parse_date(s).ok_or_else(|| format!("not a date YYYY-MM-DD: {s:?}"))
}

/// Today's date from the system clock: the doors own the clock, the core has none.
pub fn today() -> Date {
    chrono::Local::now().date_naive()
}

/// Reads a file, or standard input for `-`.
pub fn read_input(path: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    let res = if path == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)).map(|_| ())
    };
    res.map_err(|e| format!("cannot read {path}: {e}"))?;
    String::from_utf8(bytes).map_err(|e| format!("{path}: not valid UTF-8 (byte {})", e.utf8_error().valid_up_to()))
}

pub fn report(e: &Error) -> u8 {
    eprintln!("error: {e}");
    exit_code(e)
}

/// Writes to standard output; a closed pipe (`jiuzhu … | head`) ends quietly instead
/// of panicking like `println!` would.
pub fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()).is_err() {
        std::process::exit(0);
    }
}
