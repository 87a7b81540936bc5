//! sfsmoke's own failure codes: the `type` of a JUnit `<failure>`/`<error>`
//! and the `code` in the JSON report when Salesforce gave none. Each has a
//! triage entry (`sfsmoke explain CODE`); they are a contract with the
//! people who read reports and with CI filters, so they live in one place.

/// An answer that is not what Salesforce sends.
pub const UNEXPECTED_RESPONSE: &str = "UNEXPECTED_RESPONSE";
/// A connection that failed (refused, reset, DNS).
pub const NETWORK_ERROR: &str = "NETWORK_ERROR";
/// No answer in time (the request timeout or the run's deadline).
pub const TIMEOUT: &str = "TIMEOUT";
/// A TLS handshake or certificate problem.
pub const TLS_ERROR: &str = "TLS_ERROR";
/// The config or command line is unusable (the org was not run).
pub const CONFIG_ERROR: &str = "CONFIG_ERROR";
/// The integration user's access differs from smoke.lock.
pub const ACCESS_DRIFT: &str = "ACCESS_DRIFT";
/// Fewer API calls remain in the org's rolling 24-hour allocation than
/// `min_api_remaining` asks for (`quota.rs`).
pub const API_QUOTA_LOW: &str = "API_QUOTA_LOW";
/// The run was cancelled (SIGINT or SIGTERM) before this check finished.
pub const CANCELLED: &str = "CANCELLED";
/// Written at the start of a run and replaced at its end: if a report
/// still says this, the run was killed before it could write its own.
pub const INCOMPLETE: &str = "INCOMPLETE";
/// A query ran but returned fewer rows than its `min_rows` (`totalSize`):
/// sharing, a filter or missing data hides them.
pub const TOO_FEW_ROWS: &str = "TOO_FEW_ROWS";
/// A setup read not sent: the API version the audit reads at predates
/// what it reads (External Client Apps below 59.0/60.0). Not a config
/// error: the check ran; only the diagnosis knows less.
pub const VERSION_TOO_OLD: &str = "VERSION_TOO_OLD";
