//! The run's result as plain data, in smoke.toml order, and the renderers
//! that turn it into JUnit XML, JSON, console text, GitHub annotations and
//! GitLab log sections. Renderers never decide the verdict; [`RunReport::verdict`] does.

pub mod console;
pub mod github;
pub mod gitlab;
pub mod json;
pub mod junit;
/// Test-only JUnit validity check, shared with the integration tests.
#[cfg(test)]
pub(crate) mod junit_check;
pub mod sanitize;

use crate::salesforce::error::Failure;
use serde::Serialize;
use std::time::Duration;

/// Everything one `sfsmoke smoke` run found.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// When the run started (UTC).
    pub started_at: chrono::DateTime<chrono::Utc>,
    #[serde(serialize_with = "ser_secs")]
    pub duration: Duration,
    /// The config file the run read, as given.
    pub config_path: String,
    /// Problems with the config or command line (exit 2) that were found
    /// after the config could be read; listed in the report so nothing is
    /// lost.
    pub config_errors: Vec<String>,
    pub orgs: Vec<OrgReport>,
    /// Set when the run did not (or had not yet) run to its end.
    pub interrupted: Option<Interruption>,
}

/// Why a report does not describe a finished run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Interruption {
    /// The report written when the run starts, over any earlier one; the
    /// finished run replaces it. Still there: the run was killed (SIGKILL,
    /// out of memory, the runner lost) before it could write its own.
    InProgress,
    /// SIGINT arrived: unfinished checks are `CANCELLED`.
    CancelledBySigint,
    /// SIGTERM arrived: unfinished checks are `CANCELLED`.
    CancelledBySigterm,
}

impl Interruption {
    /// The signal's name, for messages.
    pub fn signal(self) -> Option<&'static str> {
        match self {
            Interruption::InProgress => None,
            Interruption::CancelledBySigint => Some("SIGINT"),
            Interruption::CancelledBySigterm => Some("SIGTERM"),
        }
    }
}

/// One org: one JUnit `<testsuite>`.
#[derive(Clone, Debug, Serialize)]
pub struct OrgReport {
    /// The org's key in smoke.toml (`[orgs.<name>]`).
    pub name: String,
    pub login_url: String,
    pub api_version: String,
    /// `password`, `jwt`, `client_credentials`, `refresh_token`, `sfdx_url`,
    /// `access_token`.
    pub auth_kind: String,
    /// Known after a successful login.
    pub instance_url: Option<String>,
    /// The integration user (a username is not a secret).
    pub username: Option<String>,
    /// API usage from the last `Sforce-Limit-Info` header seen, e.g. `18/5000`.
    pub api_usage: Option<String>,
    /// Deprecation and other warnings (e.g. SOAP login() retirement).
    pub warnings: Vec<String>,
    #[serde(serialize_with = "ser_secs")]
    pub duration: Duration,
    pub cases: Vec<CaseReport>,
}

/// What a testcase checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    Login,
    Object,
    Check,
    Drift,
    /// `min_api_remaining`: the org's remaining daily API calls.
    Quota,
    Config,
}

/// One check: one JUnit `<testcase>`.
#[derive(Clone, Debug, Serialize)]
pub struct CaseReport {
    /// Display name, e.g. `login (jwt)`, `query Account`, `check: todays opportunities`.
    pub name: String,
    pub kind: CaseKind,
    /// The object or check name (or `login`).
    pub target: String,
    /// The SOQL that ran, if any.
    pub soql: Option<String>,
    #[serde(serialize_with = "ser_secs")]
    pub duration: Duration,
    pub outcome: Outcome,
    /// Transient failures retried on the way to this outcome (0: first try).
    pub retries: u32,
}

/// How a check ended.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Passed; `detail` is e.g. `1 record` or `totalSize 42`.
    Passed { detail: Option<String> },
    /// Salesforce answered with an error (JUnit `<failure>`), or sfsmoke
    /// found a problem such as access drift.
    Failed(Problem),
    /// No usable answer: network, timeout, TLS, unexpected body (JUnit `<error>`).
    Errored(Problem),
    /// Not run, with the reason (e.g. the login failed).
    Skipped { reason: String },
}

/// A failure plus what we know about it for the person on call.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    pub failure: Failure,
    /// One paragraph from the triage knowledge base.
    pub hint: String,
    /// The diagnosed cause, when an auditor connection found it, or the
    /// checks to do by hand.
    pub diagnosis: Option<String>,
}

impl Outcome {
    pub fn from_failure(failure: Failure, hint: String, diagnosis: Option<String>) -> Outcome {
        let problem = Problem {
            failure,
            hint,
            diagnosis,
        };
        if problem.failure.origin.is_answer() {
            Outcome::Failed(problem)
        } else {
            Outcome::Errored(problem)
        }
    }

    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Outcome::Failed(p) | Outcome::Errored(p) => Some(p),
            _ => None,
        }
    }

    pub fn is_bad(&self) -> bool {
        self.problem().is_some()
    }
}

/// Counts for summaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub tests: usize,
    pub passed: usize,
    pub failed: usize,
    pub errored: usize,
    pub skipped: usize,
}

impl Tally {
    pub fn of<'a>(cases: impl IntoIterator<Item = &'a CaseReport>) -> Tally {
        let mut t = Tally::default();
        for c in cases {
            t.tests += 1;
            match c.outcome {
                Outcome::Passed { .. } => t.passed += 1,
                Outcome::Failed(_) => t.failed += 1,
                Outcome::Errored(_) => t.errored += 1,
                Outcome::Skipped { .. } => t.skipped += 1,
            }
        }
        t
    }
}

impl RunReport {
    pub fn tally(&self) -> Tally {
        Tally::of(self.orgs.iter().flat_map(|o| o.cases.iter()))
    }

    /// What the run comes to. The `smoke` command turns it into the exit
    /// code (`crate::exit::of`); the JSON report states both.
    pub fn verdict(&self) -> Verdict {
        match self.interrupted {
            Some(Interruption::InProgress) => return Verdict::Incomplete,
            Some(why) => return Verdict::Cancelled(why),
            None => {}
        }
        if !self.config_errors.is_empty() {
            return Verdict::ConfigError;
        }
        let t = self.tally();
        if t.failed + t.errored > 0 {
            Verdict::Failed
        } else {
            Verdict::Passed
        }
    }
}

/// What a run comes to, in the order a reader asks: did it finish, could it
/// start, did every check pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every check passed.
    Passed,
    /// At least one check failed or errored.
    Failed,
    /// The config or the command line was unusable.
    ConfigError,
    /// A signal stopped the run ([`Interruption::CancelledBySigint`] or
    /// [`Interruption::CancelledBySigterm`]).
    Cancelled(Interruption),
    /// The report written when the run started: the run has not finished.
    Incomplete,
}

impl Verdict {
    /// The JSON report's `verdict`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::ConfigError => "config_error",
            Verdict::Cancelled(_) => "cancelled",
            Verdict::Incomplete => "incomplete",
        }
    }
}

impl OrgReport {
    pub fn tally(&self) -> Tally {
        Tally::of(&self.cases)
    }
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}
