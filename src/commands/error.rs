//! What stops a command, and the exit code each means (nextest's
//! `ExpectedError` is the model): one enum, one printer, one mapping. A
//! failed check is not here: it is a value in the report, and the report's
//! verdict decides between 0 and 1.

use crate::config::Diagnostic;
use crate::exit;
use crate::snapshot::LockError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A problem that stops a command (or, for the gate, that it reports
/// besides its checks). Display is the text after `error: `.
#[derive(Debug, thiserror::Error)]
pub enum FatalError {
    /// smoke.toml has a problem: `file:line:col: key: message` and a hint.
    #[error("{0}")]
    Config(Diagnostic),
    /// smoke.toml is unusable and nothing more precise is known.
    #[error("{} is unusable", .0.display())]
    ConfigUnusable(PathBuf),
    /// The command line asks for what cannot be: an unknown org or
    /// scenario, a bad `--shard`, two reports on one path, a port in use,
    /// a file that `init` must not overwrite or cannot write.
    #[error("{0}")]
    Usage(String),
    /// `sfsmoke explain` does not know the code.
    #[error("{0}")]
    UnknownCode(String),
    /// smoke.lock cannot be read, parsed or written.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// A report file could not be written.
    #[error("cannot write the {kind} report to {}: {source}\n  (hint: {hint})", .path.display())]
    Report {
        /// `JUnit` or `JSON`.
        kind: &'static str,
        path: PathBuf,
        source: std::io::Error,
        hint: String,
    },
    /// Work the command could not finish: the deadline passed, smoke.lock
    /// was not refreshed, the async runtime or the demo's orgs did not
    /// start. The message says what and what to do.
    #[error("{0}")]
    Unfinished(String),
    /// SIGINT or SIGTERM stopped the run; the reports say which checks
    /// had not finished.
    #[error("cancelled by {}: {unfinished} unfinished {} reported as CANCELLED, the reports written\n  (hint: the job was cancelled or hit its time limit; rerun it, and keep deadline_secs below the job's limit)", .why.signal().unwrap_or("a signal"), if *.unfinished == 1 { "check" } else { "checks" })]
    Cancelled {
        why: crate::report::Interruption,
        unfinished: usize,
    },
}

impl FatalError {
    /// The process exit code this error means (see `--help`, EXIT STATUS).
    pub fn exit_code(&self) -> u8 {
        match self {
            FatalError::Config(_)
            | FatalError::ConfigUnusable(_)
            | FatalError::Usage(_)
            | FatalError::UnknownCode(_) => exit::UNUSABLE_INPUT,
            FatalError::Lock(LockError::Write { .. }) => exit::CHECK_FAILED,
            FatalError::Lock(_) => exit::UNUSABLE_INPUT,
            FatalError::Report { .. } | FatalError::Unfinished(_) => exit::CHECK_FAILED,
            FatalError::Cancelled { why, .. } => super::cancel::exit_code(*why),
        }
    }

    /// The `kind` report (`JUnit`, `JSON`) could not be written to `path`:
    /// the hint says to move the file that sits where a folder should be,
    /// else to check the folder's permissions, and names `flag`, which
    /// writes the report elsewhere.
    pub fn report(kind: &'static str, flag: &str, path: &Path, source: std::io::Error) -> Self {
        let fix = if crate::atomic::file_in_the_way(&source).is_some() {
            "move that file away"
        } else {
            "check that the folder is writable"
        };
        FatalError::Report {
            kind,
            path: path.to_path_buf(),
            source,
            hint: format!("{fix}, or pass {flag} PATH"),
        }
    }

    /// Print it to stderr as `error: ...` (hint lines included).
    pub fn print(&self) {
        let _ = writeln!(std::io::stderr().lock(), "error: {self}");
    }
}

/// The exit code of a command that ended with `errors` (in the order they
/// were found) after a verdict of `code`: the most serious wins, so a run
/// with an unusable config stays 2 when its report cannot be written either.
pub fn worst(code: u8, errors: &[FatalError]) -> u8 {
    errors.iter().map(FatalError::exit_code).fold(code, u8::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_documented_exit_code() {
        let io = || std::io::Error::other("disk full");
        assert_eq!(
            FatalError::ConfigUnusable("smoke.toml".into()).exit_code(),
            2
        );
        assert_eq!(FatalError::Usage("x".into()).exit_code(), 2);
        assert_eq!(FatalError::UnknownCode("x".into()).exit_code(), 2);
        let write = LockError::Write {
            path: "smoke.lock".into(),
            source: io(),
        };
        assert_eq!(FatalError::Lock(write).exit_code(), 1);
        let read = LockError::Read {
            path: "smoke.lock".into(),
            source: io(),
        };
        assert_eq!(FatalError::Lock(read).exit_code(), 2);
        let report = FatalError::report("JUnit", "--junit", Path::new("r.xml"), io());
        assert_eq!(report.exit_code(), 1);
        assert_eq!(
            report.to_string(),
            "cannot write the JUnit report to r.xml: disk full\n  (hint: check that the folder is writable, or pass --junit PATH)"
        );
        assert_eq!(FatalError::Unfinished("x".into()).exit_code(), 1);
    }

    #[test]
    fn a_file_in_the_way_is_named_for_either_report() {
        let in_the_way = || {
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                crate::atomic::FileInTheWay {
                    dir: "out/sub".into(),
                    file: "out".into(),
                },
            )
        };
        for (kind, flag, path) in [
            ("JUnit", "--junit", "out/sub/j.xml"),
            ("JSON", "--json", "out/sub/r.json"),
        ] {
            let e = FatalError::report(kind, flag, Path::new(path), in_the_way());
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("cannot write the {kind} report to {path}: ")),
                "{text}"
            );
            assert!(
                text.ends_with(&format!("(hint: move that file away, or pass {flag} PATH)")),
                "{text}"
            );
            assert_eq!(e.exit_code(), 1);
        }
        let plain = FatalError::report(
            "JSON",
            "--json",
            Path::new("r.json"),
            std::io::Error::other("disk full"),
        );
        assert!(plain
            .to_string()
            .ends_with("(hint: check that the folder is writable, or pass --json PATH)"));
    }

    #[test]
    fn the_worst_code_wins() {
        let usage = FatalError::Usage("bad".into());
        let unfinished = FatalError::Unfinished("late".into());
        assert_eq!(worst(0, &[]), 0);
        assert_eq!(worst(1, &[]), 1);
        assert_eq!(worst(0, &[unfinished]), 1);
        assert_eq!(worst(1, &[usage]), 2);
    }
}
