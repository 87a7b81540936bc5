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

pub fn code(value: u8) -> ExitCode {
    ExitCode::from(value)
}
