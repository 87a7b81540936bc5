//! Exit codes, in one place (as nextest keeps them). Documented in `--help`
//! and the README.

use std::process::ExitCode;

/// Every check passed.
pub const SUCCESS: u8 = 0;
/// At least one check failed: a login, a query, a drift check, or a report
/// could not be written.
pub const CHECK_FAILED: u8 = 1;
/// The config or the command line is unusable. clap uses 2 for usage errors
/// too.
pub const UNUSABLE_INPUT: u8 = 2;

/// The run was cancelled by SIGINT (Ctrl-C; GitHub Actions' first signal
/// when a job is cancelled): 128 + 2, as a shell reports it. Unfinished
/// checks are reported as `CANCELLED` and the reports are written.
pub const CANCELLED_SIGINT: u8 = 130;
/// The run was cancelled by SIGTERM (GitLab, GitHub Actions' second signal,
/// `timeout`, Kubernetes): 128 + 15. Same reports as for SIGINT.
pub const CANCELLED_SIGTERM: u8 = 143;

/// The exit code of a run with this verdict. A report written at the start
/// of a run (`Incomplete`) says 1: whoever reads it must not take it for a
/// pass.
pub fn of(verdict: crate::report::Verdict) -> u8 {
    use crate::report::{Interruption, Verdict};
    match verdict {
        Verdict::Passed => SUCCESS,
        Verdict::Failed | Verdict::Incomplete => CHECK_FAILED,
        Verdict::ConfigError => UNUSABLE_INPUT,
        Verdict::Cancelled(Interruption::CancelledBySigint) => CANCELLED_SIGINT,
        Verdict::Cancelled(Interruption::CancelledBySigterm) => CANCELLED_SIGTERM,
        Verdict::Cancelled(Interruption::InProgress) => CHECK_FAILED,
    }
}

pub fn code(value: u8) -> ExitCode {
    ExitCode::from(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Interruption, Verdict};

    #[test]
    fn every_verdict_has_its_documented_code() {
        assert_eq!(of(Verdict::Passed), 0);
        assert_eq!(of(Verdict::Failed), 1);
        assert_eq!(of(Verdict::Incomplete), 1, "never read as a pass");
        assert_eq!(of(Verdict::ConfigError), 2);
        assert_eq!(of(Verdict::Cancelled(Interruption::CancelledBySigint)), 130);
        assert_eq!(
            of(Verdict::Cancelled(Interruption::CancelledBySigterm)),
            143
        );
    }
}
