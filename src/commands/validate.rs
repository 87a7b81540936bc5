//! `sfsmoke validate`: load smoke.toml offline (no network); print every
//! problem as `file:line:col: key: message` with its hint and exit 2, or
//! the warnings and a one-line summary and exit 0.

use super::Handled;
use crate::cli::ValidateArgs;
use crate::exit;
use std::io::Write;

pub(super) fn run(args: &ValidateArgs) -> Handled {
    let (ok, out, err) = crate::config::validate(&args.config, &|name| std::env::var(name).ok());
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    let _ = std::io::stderr().lock().write_all(err.as_bytes());
    Ok(if ok {
        exit::SUCCESS
    } else {
        exit::UNUSABLE_INPUT
    })
}
