//! `sfsmoke validate`: load smoke.toml offline (no network), print every
//! problem as `file:line:col: key: message` with its hint, exit 2; or print a
//! one-line summary and exit 0.

use super::{load_with_env, Config, Diagnostic};
use crate::cli::ValidateArgs;
use crate::exit;
use std::path::Path;

/// `sfsmoke validate`.
pub fn validate_command(args: &ValidateArgs) -> u8 {
    let (code, out, err) = run(&args.config, &|name| std::env::var(name).ok());
    print!("{out}");
    eprint!("{err}");
    code
}

/// The exit code, stdout and stderr of `validate` on `path`.
pub(crate) fn run(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> (u8, String, String) {
    match load_with_env(path, env) {
        Ok(config) => {
            let mut err = String::new();
            for w in &config.warnings {
                err.push_str(&warning(w));
                err.push('\n');
            }
            (exit::SUCCESS, format!("{}\n", summary(&config)), err)
        }
        Err(failure) => {
            let mut err = String::new();
            for d in &failure.diagnostics {
                err.push_str(&d.to_string());
                err.push('\n');
            }
            let n = failure.diagnostics.len();
            err.push_str(&format!(
                "error: {} has {n} problem{}; nothing was contacted\n",
                path.display(),
                if n == 1 { "" } else { "s" }
            ));
            (exit::UNUSABLE_INPUT, String::new(), err)
        }
    }
}

/// `file:line:col: key: warning: message` and its hint.
fn warning(d: &Diagnostic) -> String {
    let mut plain = d.clone();
    plain.message = format!("warning: {}", d.message);
    plain.to_string()
}

/// One line: `smoke.toml: 2 orgs, 5 checks, auth: jwt, password — ok`.
/// Checks count the object queries and the extra checks (not the logins).
pub fn summary(config: &Config) -> String {
    let orgs = config.orgs.len();
    let checks: usize = config
        .orgs
        .values()
        .map(|o| o.objects.len() + o.checks.len())
        .sum();
    let mut kinds: Vec<&str> = Vec::new();
    for org in config.orgs.values() {
        if !kinds.contains(&org.auth.kind()) {
            kinds.push(org.auth.kind());
        }
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}: {}, {}, auth: {} — ok",
        config.path.display(),
        plural(orgs, "org"),
        plural(checks, "check"),
        kinds.join(", ")
    )
}
