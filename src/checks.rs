//! Plans and runs one org's checks: the login, then one query per object and
//! per extra check, concurrently and bounded, each under its own timeout.
//!
//! - The login case comes first; when it fails, every other case is listed
//!   as skipped, saying why (never a second login attempt: lockout risk).
//! - Queries run with at most `concurrency` in flight, each request under
//!   the per-request timeout.
//! - The whole run shares one deadline: a case that has not finished by then
//!   becomes an errored `TIMEOUT` case, so the report always lists every case.
//! - A query answered `INVALID_SESSION_ID` "Session expired or invalid" logs
//!   in again once for the org (never after a failed login, never for "This
//!   session is not valid for use with the REST API", never for
//!   `access_token`) and retries that query once; the org gets a warning
//!   saying so and whether the retries passed. A retry refused the same way
//!   keeps Salesforce's code and text plus [`AGAIN_AFTER_LOGIN`], and is
//!   flagged [`Failure::again_after_login`], whose triage entry says
//!   sessions die at once (never "log in again").
//! - Each failure gets its triage hint from [`crate::triage::hint_for`];
//!   [`run_org_with`] then hands the report, and the org's session or its
//!   failed login, to [`crate::followup::after_checks`] (diagnosis of the
//!   failures, "access drift" case, access to record) when asked to.

use crate::audit::{Own, Round};
use crate::auth::{self, Session};
use crate::config::{Auth, OrgConfig};
use crate::followup::Plan;
use crate::report::{CaseKind, CaseReport, OrgReport, Outcome};
use crate::salesforce::client::{self, Connection, QueryResult, RetryPolicy};
use crate::salesforce::error::{self, Failure, Origin};
use crate::secret::Redactor;
use futures::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Run-wide settings for the checks.
#[derive(Clone, Debug)]
pub struct Settings {
    pub request_timeout: Duration,
    /// Wall-clock instant after which nothing new finishes.
    pub deadline: tokio::time::Instant,
    /// The deadline as configured, for messages.
    pub deadline_len: Duration,
    pub concurrency: usize,
    /// Fold the queries into `POST /composite` requests (`batch`, default
    /// on): one API call per [`QUERIES_PER_COMPOSITE`] queries.
    pub batch: bool,
    /// `min_api_remaining`: the "API quota" case after the queries.
    pub min_api_remaining: Option<crate::quota::QuotaFloor>,
}

impl Settings {
    /// How every read of the run is retried: the default attempts, each
    /// under the request timeout, none past the run's deadline.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            attempt_timeout: Some(self.request_timeout),
            deadline: Some(self.deadline),
            ..RetryPolicy::default()
        }
    }
}

/// Queries in one composite: Salesforce allows at most 5 query
/// subrequests in a `POST /composite` (of 25 subrequests), which counts as
/// one API call.
pub const QUERIES_PER_COMPOSITE: usize = 5;

/// Subrequests in one `POST /composite` other than queries (the audit's
/// REST retrieves): Salesforce's limit of 25, still one API call.
pub const RETRIEVES_PER_COMPOSITE: usize = 25;

/// A composite's referenceId for the `i`-th query of a chunk on `target`:
/// letters, digits and underscores, starting with a letter, unique in the
/// chunk (`q0_Account`, `q1_Invoice__c`, `q2_todays_opportunities`).
pub fn reference_id(i: usize, target: &str) -> String {
    let mut id = format!("q{i}_");
    id.extend(target.chars().take(40).map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    }));
    id
}

/// How a composite of a chunk of cases ended.
enum Batched {
    /// Each case's outcome, in the chunk's order.
    Done(Vec<Outcome>),
    /// The composite itself was refused: run the queries one by one.
    Refused(Failure),
}

/// Did this answer to `POST /composite` refuse the composite itself (so
/// that single queries may still work)? A 4xx other than the session, API
/// and version refusals (401, 403, 410: every request meets those), a 500
/// or 501, or a 2xx that is not a composite answer.
fn refuses_composite(f: &Failure) -> bool {
    match f.http_status {
        Some(401 | 403 | 410) => false,
        Some(s) => (400..500).contains(&s) || s == 500 || s == 501 || (200..300).contains(&s),
        None => false,
    }
}

/// A query case's outcome from its answer: passed with its record count
/// (plus `note`), or failed `TOO_FEW_ROWS` when `totalSize` (which also
/// counts a `COUNT()` query and rows past the first page) is below the
/// case's `min_rows`.
fn passed(case: &Planned, r: &QueryResult, note: &str, redactor: &Redactor) -> Outcome {
    if r.total_size >= case.min_rows {
        let detail = Some(format!("{}{note}", r.detail()));
        return Outcome::Passed { detail };
    }
    let short = RowsShort {
        want: case.min_rows,
        got: r.total_size,
    };
    problem(short.failure(note), redactor)
}

/// A check that returned `got` rows where its `min_rows` asked for `want`:
/// [`RowsShort::failure`] writes the `TOO_FEW_ROWS` message and
/// [`RowsShort::of`] reads the counts back (the diagnosis needs them), so
/// the format lives in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowsShort {
    pub want: u64,
    pub got: u64,
}

impl RowsShort {
    const EXPECTED: &'static str = "expected at least ";
    const GOT: &'static str = ", got ";

    /// The `TOO_FEW_ROWS` failure; `note` follows the count.
    pub fn failure(self, note: &str) -> Failure {
        let RowsShort { want, got } = self;
        let rows = if want == 1 { "row" } else { "rows" };
        let message = format!("{}{want} {rows}{}{got}{note}: the query ran, so login and object Read are fine; sharing, a filter or missing data hides the rows", Self::EXPECTED, Self::GOT);
        Failure::new(Origin::Sfsmoke, crate::codes::TOO_FEW_ROWS, message)
    }

    /// The counts of a failure [`RowsShort::failure`] made; `None` for any
    /// other (the diagnosis then lists the checks to do by hand).
    pub fn of(failure: &Failure) -> Option<RowsShort> {
        if failure.code != crate::codes::TOO_FEW_ROWS {
            return None;
        }
        let number = |s: &str| -> Option<u64> {
            let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        };
        let rest = failure.message.strip_prefix(Self::EXPECTED)?;
        let want = number(rest)?;
        let got = number(&rest[rest.find(Self::GOT)? + Self::GOT.len()..])?;
        Some(RowsShort { want, got })
    }
}

/// The number after a query's last `LIMIT` (none: `None`): a check whose
/// `min_rows` is above it can never pass.
pub fn soql_limit(soql: &str) -> Option<u64> {
    let words: Vec<&str> = soql.split_whitespace().collect();
    let at = words
        .iter()
        .rposition(|w| w.eq_ignore_ascii_case("limit"))?;
    words.get(at + 1)?.parse().ok()
}

/// Called once per finished case (live console lines, progress).
pub type OnCase = Arc<dyn Fn(&str, &CaseReport) + Send + Sync>;

/// Shared across orgs: the config's secrets plus every token obtained.
pub type SharedRedactor = Arc<Mutex<Redactor>>;

/// The SOQL of an object case: one row, or the org's `min_rows` (so that
/// `totalSize` can reach it).
pub fn object_soql(object: &str, min_rows: u64) -> String {
    format!("SELECT Id FROM {object} LIMIT {}", min_rows.max(1))
}

/// The login case's name: `login (<auth kind>)`.
pub fn login_case_name(auth: &Auth) -> String {
    format!("login ({})", auth.kind())
}

/// One planned query case.
#[derive(Clone, Debug)]
struct Planned {
    name: String,
    kind: CaseKind,
    target: String,
    soql: String,
    /// Fewer rows than this fail the case `TOO_FEW_ROWS`.
    min_rows: u64,
}

impl Planned {
    /// What the case calls, for messages: `query Account at https://host`,
    /// `query of check "todays opportunities" at https://host`.
    fn call(&self, instance: &url::Url) -> String {
        let host = client::origin_of(instance);
        match self.kind {
            CaseKind::Check => format!("query of check \"{}\" at {host}", self.target),
            _ => format!("query {} at {host}", self.target),
        }
    }

    /// The finished case.
    fn case(&self, duration: Duration, outcome: Outcome, retries: u32) -> CaseReport {
        CaseReport {
            name: self.name.clone(),
            kind: self.kind,
            target: self.target.clone(),
            soql: Some(self.soql.clone()),
            duration,
            outcome,
            retries,
        }
    }
}

fn plan(org: &OrgConfig) -> Vec<Planned> {
    let mut cases: Vec<Planned> = org
        .objects
        .iter()
        .map(|o| Planned {
            name: format!("query {o}"),
            kind: CaseKind::Object,
            target: o.clone(),
            soql: object_soql(o, org.min_rows),
            min_rows: org.min_rows,
        })
        .collect();
    cases.extend(org.checks.iter().map(|c| Planned {
        name: format!("check: {}", c.name),
        kind: CaseKind::Check,
        target: c.name.clone(),
        soql: c.soql.clone(),
        min_rows: c.min_rows,
    }));
    cases
}

/// An org's report before any case: what the config says about it.
pub fn empty_report(org: &OrgConfig) -> OrgReport {
    OrgReport {
        name: org.name.clone(),
        login_url: org.login_url.as_str().trim_end_matches('/').to_string(),
        api_version: org.api_version.clone(),
        auth_kind: org.auth.kind().to_string(),
        instance_url: None,
        username: org.auth.username().map(str::to_string),
        api_usage: None,
        warnings: Vec::new(),
        duration: Duration::ZERO,
        cases: Vec::new(),
    }
}

/// Every case an org's checks report, in order (the login, one per object
/// and extra check, then the "API quota" case when `quota`), each with
/// `outcome` and no time: for a run that stopped, or has not yet started,
/// before the checks finished, and for counting the cases up front.
pub fn planned_cases(org: &OrgConfig, quota: bool, outcome: &Outcome) -> Vec<CaseReport> {
    let login = login_case(&org.auth, Duration::ZERO, outcome.clone());
    let queries = plan(org)
        .into_iter()
        .map(|p| p.case(Duration::ZERO, outcome.clone(), 0));
    let quota = quota.then(|| crate::quota::case_with(outcome.clone()));
    std::iter::once(login).chain(queries).chain(quota).collect()
}

/// The org's login case.
fn login_case(auth: &Auth, duration: Duration, outcome: Outcome) -> CaseReport {
    CaseReport {
        name: login_case_name(auth),
        kind: CaseKind::Login,
        target: "login".into(),
        soql: None,
        duration,
        outcome,
        retries: 0,
    }
}

fn snapshot(r: &SharedRedactor) -> Redactor {
    r.lock().map(|g| g.clone()).unwrap_or_default()
}

fn problem(failure: Failure, redactor: &Redactor) -> Outcome {
    let failure = failure.redacted(redactor);
    let hint = redactor.redact(&crate::triage::hint_for(&failure));
    Outcome::from_failure(failure, hint, None)
}

/// `what` had not finished when the run's deadline passed.
pub(crate) fn deadline_failure(settings: &Settings, what: &str) -> Failure {
    Failure::new(
        Origin::Timeout,
        error::TIMEOUT,
        format!(
            "{what} had not finished when the run's deadline ({}s) passed",
            settings.deadline_len.as_secs_f64()
        ),
    )
}

fn request_timeout_failure(settings: &Settings, what: &str) -> Failure {
    Failure::new(
        Origin::Timeout,
        error::TIMEOUT,
        format!(
            "{what}: no answer within the request timeout ({}s)",
            settings.request_timeout.as_secs_f64()
        ),
    )
}

/// Run `fut` until the run's deadline at most.
pub(crate) async fn by_deadline<T>(
    settings: &Settings,
    what: &str,
    fut: impl std::future::Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    tokio::time::timeout_at(settings.deadline, fut)
        .await
        .unwrap_or_else(|_| Err(deadline_failure(settings, what)))
}

/// Run one request under the request timeout and the run's deadline.
async fn bounded<T>(
    settings: &Settings,
    what: &str,
    fut: impl std::future::Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    let per_request = async {
        tokio::time::timeout(settings.request_timeout, fut)
            .await
            .unwrap_or_else(|_| Err(request_timeout_failure(settings, what)))
    };
    by_deadline(settings, what, per_request).await
}

/// Is this the "session expired" refusal that a new login cures?
pub fn is_curable_session_error(f: &Failure) -> bool {
    let m = f.message.to_ascii_lowercase();
    f.code == "INVALID_SESSION_ID"
        && m.contains("session expired or invalid")
        && !m.contains("not valid for use with the rest api")
}

/// One org's re-login state: at most one new login per org and run.
struct Relogin {
    /// `None`: not tried; `Some(Ok)`: done; `Some(Err)`: failed.
    state: tokio::sync::Mutex<Option<Result<(), Failure>>>,
    /// The re-login succeeded and at least one query was retried.
    warned: Mutex<bool>,
    retried: AtomicUsize,
    /// Retries refused with INVALID_SESSION_ID again.
    failed_again: AtomicUsize,
    /// Retries that failed otherwise.
    failed_other: AtomicUsize,
}

/// Everything the org's cases share.
struct OrgCtx<'a> {
    org: &'a OrgConfig,
    http: reqwest::Client,
    conn: Connection,
    settings: &'a Settings,
    redactor: SharedRedactor,
    relogin: Relogin,
    /// Why `POST /composite` was refused, the first time it was.
    fallback: Mutex<Option<String>>,
    /// Single queries in flight after a refused composite: `concurrency`
    /// for the whole org, however many composites fell back.
    singles: tokio::sync::Semaphore,
}

impl OrgCtx<'_> {
    /// One query case: its outcome and how many transient failures were
    /// retried on the way (see [`crate::net::retry`]).
    async fn run_query(&self, case: &Planned) -> (Outcome, u32) {
        let mut retries = 0;
        let outcome = self.run_query_counting(case, &mut retries).await;
        (outcome, retries)
    }

    /// The query under the run's deadline; each attempt has the request
    /// timeout (the connection's retry policy applies it).
    async fn query(
        &self,
        what: &str,
        soql: &str,
        retries: &mut u32,
    ) -> Result<QueryResult, Failure> {
        let counted = by_deadline(self.settings, what, async {
            let c = self.conn.query_counted(soql).await;
            Ok::<_, Failure>(c)
        })
        .await;
        match counted {
            Ok(c) => {
                *retries += c.retries;
                c.result
            }
            Err(f) => Err(f),
        }
    }

    async fn run_query_counting(&self, case: &Planned, retries: &mut u32) -> Outcome {
        let what = case.call(&self.conn.instance_url());
        let failure = match self.query(&what, &case.soql, retries).await {
            Ok(r) => return passed(case, &r, "", &snapshot(&self.redactor)),
            Err(f) => f,
        };
        if !self.cures(&failure) {
            return problem(failure, &snapshot(&self.redactor));
        }
        // Session expired mid-run: one new login for the org, then one retry.
        if let Err(f) = self.relogin_once().await {
            return self.relogin_failed(f);
        }
        self.note_retries(1);
        let again = self.query(&what, &case.soql, retries).await;
        self.retried_outcome(case, again)
    }

    /// Does one new login for the org cure `f`? Only the expired session,
    /// and never for `access_token` (there is no login to repeat).
    fn cures(&self, f: &Failure) -> bool {
        is_curable_session_error(f) && !matches!(self.org.auth, Auth::AccessToken { .. })
    }

    /// Log in again, once per org and run: later callers get the first
    /// attempt's result.
    async fn relogin_once(&self) -> Result<(), Failure> {
        let mut state = self.relogin.state.lock().await;
        if state.is_none() {
            tracing::info!("session expired or invalid: logging in again once");
            let r = bounded(
                self.settings,
                &format!("logging in again ({})", auth::login_call(self.org)),
                auth::login_with(&self.http, self.org, &snapshot(&self.redactor)),
            )
            .await
            .map(|s| {
                if let Ok(mut red) = self.redactor.lock() {
                    red.add_secret(&s.access_token);
                }
                self.conn.replace_session(&s);
            });
            *state = Some(r);
        }
        state.clone().unwrap_or(Ok(()))
    }

    /// A case whose session expired and whose new login failed (`f`).
    fn relogin_failed(&self, f: Failure) -> Outcome {
        let f = Failure {
            message: format!(
                "the session expired mid-run (INVALID_SESSION_ID) and logging in again failed: {}",
                f.message
            ),
            ..f
        };
        problem(f, &snapshot(&self.redactor))
    }

    /// `n` cases are retried after the new login.
    fn note_retries(&self, n: usize) {
        if let Ok(mut warned) = self.relogin.warned.lock() {
            *warned = true;
        }
        self.relogin.retried.fetch_add(n, Ordering::SeqCst);
    }

    /// A case's outcome when its query was sent again after the new login.
    fn retried_outcome(&self, case: &Planned, r: Result<QueryResult, Failure>) -> Outcome {
        match r {
            Ok(r) => passed(
                case,
                &r,
                " (after logging in again)",
                &snapshot(&self.redactor),
            ),
            Err(f) if is_curable_session_error(&f) => {
                // The fresh session died at once: another login would not
                // help. Salesforce's code and text stay, plus a note; the
                // flag picks the triage entry that says so.
                self.relogin.failed_again.fetch_add(1, Ordering::SeqCst);
                let f = Failure {
                    message: format!("{}{AGAIN_AFTER_LOGIN}", f.message),
                    again_after_login: true,
                    ..f
                };
                problem(f, &snapshot(&self.redactor))
            }
            Err(f) => {
                self.relogin.failed_other.fetch_add(1, Ordering::SeqCst);
                problem(f, &snapshot(&self.redactor))
            }
        }
    }

    /// One composite of `chunk`'s queries under the run's deadline (each
    /// attempt under the request timeout, blips retried). `Err` is the
    /// composite's own failure; see [`OrgCtx::spread`].
    async fn composite_once(
        &self,
        chunk: &[Planned],
        retries: &mut u32,
    ) -> Result<Vec<Result<QueryResult, Failure>>, Failure> {
        let queries: Vec<(String, String)> = chunk
            .iter()
            .enumerate()
            .map(|(i, p)| (reference_id(i, &p.target), p.soql.clone()))
            .collect();
        let counted = by_deadline(self.settings, "POST /composite", async {
            Ok::<_, Failure>(self.conn.composite_queries(&queries).await)
        })
        .await;
        match counted {
            Ok(c) => {
                *retries += c.retries;
                c.result
            }
            Err(f) => Err(f),
        }
    }

    /// A composite's own failure as each of its cases' failure, the one the
    /// case's own query would have met: a timeout names the case's call as
    /// a single query's would; a refusal of the session, the API or the
    /// version (REST 401, 403, 410) or trouble that retries did not cure
    /// (503, resets, a gateway's page) is the same for every request.
    /// `Err`: the composite itself was refused ([`refuses_composite`]):
    /// the queries are to be sent one by one instead.
    fn spread(&self, chunk: &[Planned], f: Failure) -> Result<Vec<Failure>, Failure> {
        let instance = self.conn.instance_url();
        let host = client::origin_of(&instance);
        let version = self.conn.api_version();
        let single = format!("REST GET /services/data/v{version}/query at {host}");
        if f.origin == Origin::Timeout {
            let past_deadline = tokio::time::Instant::now() >= self.settings.deadline;
            return Ok(chunk
                .iter()
                .map(|p| {
                    if past_deadline {
                        deadline_failure(self.settings, &p.call(&instance))
                    } else {
                        request_timeout_failure(self.settings, &single)
                    }
                })
                .collect());
        }
        if refuses_composite(&f) {
            return Err(f);
        }
        let composite = format!("REST POST /services/data/v{version}/composite at {host}");
        let f = Failure {
            message: f.message.replacen(&composite, &single, 1),
            ..f
        };
        Ok(chunk.iter().map(|_| f.clone()).collect())
    }

    /// `chunk` (at most [`QUERIES_PER_COMPOSITE`] cases) as one composite:
    /// each case's outcome from its own subrequest, with the same re-login
    /// rule as single queries (a composite refused as an expired session
    /// logs in again once for the org and is sent once more).
    async fn run_composite(&self, chunk: &[Planned], retries: &mut u32) -> Batched {
        let failure = match self.composite_once(chunk, retries).await {
            Ok(answers) => {
                let redactor = snapshot(&self.redactor);
                return Batched::Done(
                    answers
                        .into_iter()
                        .zip(chunk)
                        .map(|(a, case)| match a {
                            Ok(r) => passed(case, &r, "", &redactor),
                            Err(f) => problem(f, &redactor),
                        })
                        .collect(),
                );
            }
            Err(f) => f,
        };
        if !self.cures(&failure) {
            let redactor = snapshot(&self.redactor);
            return match self.spread(chunk, failure) {
                Ok(fs) => Batched::Done(fs.into_iter().map(|f| problem(f, &redactor)).collect()),
                Err(f) => Batched::Refused(f),
            };
        }
        if let Err(f) = self.relogin_once().await {
            return Batched::Done(
                chunk
                    .iter()
                    .map(|_| self.relogin_failed(f.clone()))
                    .collect(),
            );
        }
        self.note_retries(chunk.len());
        match self.composite_once(chunk, retries).await {
            Ok(answers) => Batched::Done(
                answers
                    .into_iter()
                    .zip(chunk)
                    .map(|(a, case)| self.retried_outcome(case, a))
                    .collect(),
            ),
            Err(f) => match self.spread(chunk, f) {
                Ok(fs) => Batched::Done(
                    fs.into_iter()
                        .zip(chunk)
                        .map(|(f, case)| self.retried_outcome(case, Err(f)))
                        .collect(),
                ),
                Err(f) => Batched::Refused(f),
            },
        }
    }

    /// Every case of `planned`, folded into composites of at most
    /// [`QUERIES_PER_COMPOSITE`] queries, all in flight at once. A
    /// composite refused as a whole falls back to one query per case (at
    /// most `concurrency` at once for the org), and the org is told so
    /// once.
    async fn run_batched(&self, planned: &[Planned], on_case: &OnCase) -> Vec<CaseReport> {
        let chunks = planned
            .chunks(QUERIES_PER_COMPOSITE)
            .map(|chunk| async move {
                let t = Instant::now();
                let mut retries = 0;
                let outcomes: Vec<(Outcome, u32)> = match self
                    .run_composite(chunk, &mut retries)
                    .await
                {
                    Batched::Done(outcomes) => outcomes.into_iter().map(|o| (o, retries)).collect(),
                    Batched::Refused(f) => {
                        self.note_fallback(&f);
                        futures::future::join_all(chunk.iter().map(|p| async move {
                            let _permit = self.singles.acquire().await;
                            let (o, r) = self.run_query(p).await;
                            (o, r + retries)
                        }))
                        .await
                    }
                };
                let took = t.elapsed();
                chunk
                    .iter()
                    .zip(outcomes)
                    .map(|(p, (outcome, retries))| {
                        let case = p.case(took, outcome, retries);
                        on_case(&self.org.name, &case);
                        case
                    })
                    .collect::<Vec<_>>()
            });
        futures::future::join_all(chunks)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// Remember (once per org) why the composite was refused.
    fn note_fallback(&self, f: &Failure) {
        if let Ok(mut note) = self.fallback.lock() {
            if note.is_none() {
                let first_line = f.message.lines().next().unwrap_or_default();
                *note = Some(format!(
                    "POST /composite was refused ({}: {first_line}), so each query was sent on its own, each charged as an API call (hint: a gateway or an API version before 38.0 does not serve /composite; `batch = false` in smoke.toml skips the attempt)",
                    f.code
                ));
            }
        }
    }

    /// The org's warning about the re-login, once the queries are done:
    /// that it happened, and whether the retries then passed.
    fn relogin_warning(&self) -> Option<String> {
        let happened = self.relogin.warned.lock().map(|w| *w).unwrap_or(false);
        if !happened {
            return None;
        }
        let retried = self.relogin.retried.load(Ordering::SeqCst);
        let again = self.relogin.failed_again.load(Ordering::SeqCst);
        let other = self.relogin.failed_other.load(Ordering::SeqCst);
        let call = auth::login_call(self.org);
        let head = format!(
            "the session expired mid-run (INVALID_SESSION_ID \"Session expired or invalid\"): sfsmoke logged in again once ({call}, which succeeded) and retried the affected queries"
        );
        Some(if again > 0 {
            format!(
                "{head}, but {again} of {retried} retries got INVALID_SESSION_ID again right after the fresh login: new sessions die at once (check the session timeout, \"Lock sessions to the IP address from which they originated\" and any policy that revokes tokens, in Setup > Security > Session Settings and the app's policies, Connected App or External Client App); logging in again will not help"
            )
        } else if other > 0 {
            format!("{head}; {other} of {retried} retries still failed (see those cases)")
        } else {
            format!("{head}: they passed; if this repeats, check the session timeout and \"Lock sessions to the IP address\" settings")
        })
    }
}

/// Appended to Salesforce's message when a query is refused with
/// INVALID_SESSION_ID again right after the one re-login, for the reader;
/// [`Failure::again_after_login`] says it to the code.
pub const AGAIN_AFTER_LOGIN: &str = " (again right after a fresh login)";

/// One org's run: its report, and what its audit read (and how long that
/// took) when the plan asked for the access to record (`--update-snapshot`).
#[derive(Debug)]
pub struct OrgRun {
    pub report: OrgReport,
    pub round: Option<(Round, Duration)>,
}

/// Run every check of one org and return its report (cases in plan order),
/// without diagnosis.
pub async fn run_org(
    org: &OrgConfig,
    settings: &Settings,
    redactor: SharedRedactor,
    on_case: OnCase,
) -> OrgReport {
    run_org_with(org, settings, redactor, on_case, &Plan::default())
        .await
        .report
}

/// [`run_org`], then [`crate::followup::after_checks`] when `plan.enabled`,
/// with the org's own session (or its failed login, not repeated).
pub async fn run_org_with(
    org: &OrgConfig,
    settings: &Settings,
    redactor: SharedRedactor,
    on_case: OnCase,
    plan: &Plan,
) -> OrgRun {
    let started = Instant::now();
    let (mut report, http, login) = run_checks(org, settings, redactor.clone(), on_case).await;
    let mut round = None;
    if plan.enabled {
        let own = match &login {
            Login::Session { conn, user_id } => Own::Session {
                conn,
                user_id: user_id.as_deref(),
            },
            Login::Failed(f) => Own::Failed(f),
        };
        round = crate::followup::after_checks(
            http.as_ref(),
            org,
            own,
            &mut report,
            plan,
            settings,
            &snapshot(&redactor),
        )
        .await;
    }
    report.duration = started.elapsed();
    OrgRun { report, round }
}

/// How the org's login ended, for what runs after the checks.
enum Login {
    /// The live connection (after any re-login) and the user id the login
    /// reported.
    Session {
        conn: Connection,
        user_id: Option<String>,
    },
    /// The login failed, or the HTTP client could not be built (redacted).
    Failed(Failure),
}

/// The checks proper; also hands back the org's HTTP client (when it could
/// be built) and how its login ended.
async fn run_checks(
    org: &OrgConfig,
    settings: &Settings,
    redactor: SharedRedactor,
    on_case: OnCase,
) -> (OrgReport, Option<reqwest::Client>, Login) {
    let started = Instant::now();
    let planned = plan(org);
    let mut report = empty_report(org);
    let quota = settings.min_api_remaining.is_some();
    let emit = |report: &mut OrgReport, case: CaseReport| {
        on_case(&org.name, &case);
        report.cases.push(case);
    };

    // The HTTP client (a bad ca_file fails the login case).
    let t0 = Instant::now();
    let http = match client::http_client(org.ca_file.as_deref(), settings.request_timeout) {
        Ok(h) => h,
        Err(f) => {
            let outcome = problem(f, &snapshot(&redactor));
            let failed = failed_login(&outcome);
            finish_failed_login(&mut report, org, &planned, t0, outcome, quota, &emit);
            report.duration = started.elapsed();
            return (report, None, failed);
        }
    };

    // The login.
    let login = bounded(
        settings,
        &auth::login_call(org),
        auth::login_with(&http, org, &snapshot(&redactor)),
    )
    .await;
    let session: Session = match login {
        Ok(s) => s,
        Err(f) => {
            let outcome = problem(f, &snapshot(&redactor));
            let failed = failed_login(&outcome);
            finish_failed_login(&mut report, org, &planned, t0, outcome, quota, &emit);
            report.duration = started.elapsed();
            return (report, Some(http), failed);
        }
    };
    if let Ok(mut r) = redactor.lock() {
        r.add_secret(&session.access_token);
    }
    report.warnings.extend(session.warnings.iter().cloned());
    report.instance_url = Some(
        session
            .instance_url
            .as_str()
            .trim_end_matches('/')
            .to_string(),
    );
    let detail = match &org.auth {
        Auth::AccessToken { .. } => {
            "token from the config (checked by the first query)".to_string()
        }
        _ => format!(
            "instance {}",
            session.instance_url.as_str().trim_end_matches('/')
        ),
    };
    let passed = Outcome::Passed {
        detail: Some(detail),
    };
    emit(&mut report, login_case(&org.auth, t0.elapsed(), passed));

    // The queries, bounded.
    let conn = Connection::new(
        http.clone(),
        &session,
        &org.api_version,
        &snapshot(&redactor),
    )
    .with_retry(settings.retry_policy());
    let ctx = OrgCtx {
        org,
        http,
        conn,
        settings,
        redactor: redactor.clone(),
        relogin: Relogin {
            state: tokio::sync::Mutex::new(None),
            warned: Mutex::new(false),
            retried: AtomicUsize::new(0),
            failed_again: AtomicUsize::new(0),
            failed_other: AtomicUsize::new(0),
        },
        fallback: Mutex::new(None),
        singles: tokio::sync::Semaphore::new(settings.concurrency.max(1)),
    };
    let ctx_ref = &ctx;
    let on_case_ref = &on_case;
    let org_name = org.name.as_str();
    let cases: Vec<CaseReport> = if settings.batch {
        ctx.run_batched(&planned, on_case_ref).await
    } else {
        futures::stream::iter(planned.iter())
            .map(|p| async move {
                let t = Instant::now();
                let (outcome, retries) = ctx_ref.run_query(p).await;
                let case = p.case(t.elapsed(), outcome, retries);
                on_case_ref(org_name, &case);
                case
            })
            .buffered(settings.concurrency.max(1))
            .collect()
            .await
    };
    report.cases.extend(cases);
    report.api_usage = ctx.conn.api_usage();
    if let Some(floor) = settings.min_api_remaining {
        // Free: the figure the queries' answers already carried.
        let case = crate::quota::case(floor, report.api_usage.as_deref());
        emit(&mut report, case);
    }
    report.warnings.extend(ctx.relogin_warning());
    report
        .warnings
        .extend(ctx.fallback.lock().ok().and_then(|mut n| n.take()));
    let final_redactor = snapshot(&redactor);
    report.warnings = report
        .warnings
        .iter()
        .map(|w| final_redactor.redact(w))
        .collect();
    report.duration = started.elapsed();
    let login = Login::Session {
        conn: ctx.conn,
        user_id: session.user_id.clone(),
    };
    (report, Some(ctx.http), login)
}

/// The failed login case's failure (as reported: redacted).
fn failed_login(outcome: &Outcome) -> Login {
    let failure = outcome.problem().map(|p| p.failure.clone());
    Login::Failed(failure.unwrap_or_else(|| {
        Failure::new(
            Origin::Sfsmoke,
            error::UNEXPECTED_RESPONSE,
            "the login failed",
        )
    }))
}

/// After a failed login: the login case, then every planned query and the
/// "API quota" case (`quota`: when asked for) skipped, saying why.
fn finish_failed_login(
    report: &mut OrgReport,
    org: &OrgConfig,
    planned: &[Planned],
    t0: Instant,
    outcome: Outcome,
    quota: bool,
    emit: &impl Fn(&mut OrgReport, CaseReport),
) {
    let code = outcome
        .problem()
        .map(|p| p.failure.code.clone())
        .unwrap_or_default();
    // A login that could not even be tried still warns about its flow.
    match &org.auth {
        Auth::SoapPassword { .. } => report.warnings.push(auth::SOAP_LOGIN_DEPRECATION.into()),
        Auth::OAuthPassword { .. } => report
            .warnings
            .push(auth::OAUTH_PASSWORD_DEPRECATION.into()),
        _ => {}
    }
    emit(report, login_case(&org.auth, t0.elapsed(), outcome));
    let skipped = Outcome::Skipped {
        reason: format!("not run: the login failed ({code})"),
    };
    for p in planned {
        emit(report, p.case(Duration::ZERO, skipped.clone(), 0));
    }
    if quota {
        emit(report, crate::quota::case_with(skipped));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_expired_session_is_curable() {
        let f = |code: &str, msg: &str| Failure::new(Origin::Rest, code, msg).with_status(401);
        assert!(is_curable_session_error(&f(
            "INVALID_SESSION_ID",
            "Session expired or invalid"
        )));
        assert!(!is_curable_session_error(&f(
            "INVALID_SESSION_ID",
            "This session is not valid for use with the REST API"
        )));
        assert!(!is_curable_session_error(&f(
            "API_DISABLED_FOR_ORG",
            "Session expired or invalid"
        )));
    }

    fn settings(request_ms: u64, deadline_ms: u64) -> Settings {
        Settings {
            request_timeout: Duration::from_millis(request_ms),
            deadline: tokio::time::Instant::now() + Duration::from_millis(deadline_ms),
            deadline_len: Duration::from_millis(deadline_ms),
            concurrency: 2,
            batch: false,
            min_api_remaining: None,
        }
    }

    /// Runs case `case` as a request that never answers, under `s`: the
    /// failure it ends with.
    async fn hang(s: &Settings, case: &str) -> Failure {
        bounded(s, case, std::future::pending::<Result<(), Failure>>())
            .await
            .unwrap_err()
    }

    #[tokio::test]
    async fn a_hung_request_ends_at_the_request_timeout() {
        let s = settings(20, 60_000);
        let f = hang(&s, "query Account").await;
        assert_eq!(f.code, error::TIMEOUT);
        assert_eq!(f.origin, Origin::Timeout);
        assert!(f.message.contains("request timeout"), "{}", f.message);
    }

    #[tokio::test]
    async fn the_run_deadline_cuts_what_is_left() {
        let s = settings(60_000, 20);
        let f = hang(&s, "query Account").await;
        assert_eq!(f.code, error::TIMEOUT);
        assert!(f.message.contains("deadline"), "{}", f.message);
        // Past the deadline, a case that has not started ends at once too.
        let f = hang(&s, "query Contact").await;
        assert!(
            f.message.starts_with("query Contact had not finished"),
            "{}",
            f.message
        );
    }

    /// A token endpoint that hands out `t1`, `t2`, ... and counts the calls,
    /// and a query endpoint that refuses `t1` with `refusal` and answers any
    /// other token.
    async fn relogin_server(
        refusal: &'static str,
        refuse_all: bool,
    ) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use axum::routing::{get, post};
        use std::sync::atomic::{AtomicUsize, Ordering};
        let logins = Arc::new(AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let counter = logins.clone();
        let instance = base.clone();
        let app = axum::Router::new()
            .route(
                "/services/oauth2/token",
                post(move || {
                    let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                    let instance = instance.clone();
                    async move {
                        axum::Json(serde_json::json!({
                            "access_token": format!("t{n}"),
                            "instance_url": instance,
                            "id": format!("{instance}/id/00D000000000001AAA/005000000000001AAA"),
                            "token_type": "Bearer",
                            "issued_at": "1735689600000",
                            "signature": "c2ln"
                        }))
                    }
                }),
            )
            .route(
                "/services/data/v62.0/query",
                get(move |headers: axum::http::HeaderMap| async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    if auth == "Bearer t1" || refuse_all {
                        (
                            axum::http::StatusCode::UNAUTHORIZED,
                            axum::Json(serde_json::json!([{"message": refusal, "errorCode": "INVALID_SESSION_ID"}])),
                        )
                    } else {
                        (
                            axum::http::StatusCode::OK,
                            axum::Json(serde_json::json!({"totalSize": 1, "done": true, "records": [{"Id": "001"}]})),
                        )
                    }
                }),
            );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (base, logins)
    }

    fn org(base: &str) -> OrgConfig {
        OrgConfig {
            name: "prod".into(),
            login_url: url::Url::parse(base).unwrap(),
            api_version: "62.0".into(),
            auth: Auth::ClientCredentials {
                client_id: "id".into(),
                client_secret: crate::secret::Secret::new("secret-value"),
            },
            objects: vec!["Account".into(), "Contact".into(), "Opportunity".into()],
            checks: vec![],
            min_rows: 0,
            ca_file: None,
            diagnose: None,
        }
    }

    /// Runs the org at `base` under `s`, with a fresh redactor and no
    /// per-case callback.
    async fn run_quietly(base: &str, s: &Settings) -> OrgReport {
        run_org(
            &org(base),
            s,
            Arc::new(Mutex::new(Redactor::new())),
            Arc::new(|_: &str, _: &CaseReport| {}),
        )
        .await
    }

    async fn run(refusal: &'static str) -> (OrgReport, usize) {
        run_against(refusal, false).await
    }

    async fn run_against(refusal: &'static str, refuse_all: bool) -> (OrgReport, usize) {
        let (base, logins) = relogin_server(refusal, refuse_all).await;
        let report = run_quietly(&base, &settings(10_000, 60_000)).await;
        (report, logins.load(std::sync::atomic::Ordering::SeqCst))
    }

    #[tokio::test]
    async fn an_expired_session_logs_in_again_once_for_all_queries() {
        let (report, logins) = run("Session expired or invalid").await;
        assert_eq!(
            logins, 2,
            "one login, one re-login, whatever the number of queries"
        );
        assert_eq!(report.tally().passed, 4, "{report:#?}");
        // Queries that met the expired session say so; one started after
        // the new login simply passes.
        let retried = report.cases[1..]
            .iter()
            .filter(|c| {
                matches!(&c.outcome, Outcome::Passed { detail: Some(d) } if d == "1 record (after logging in again)")
            })
            .count();
        assert!(retried >= 1, "{report:#?}");
        assert!(report
            .warnings
            .iter()
            .any(|w| w.contains("logged in again once")));
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    }

    #[tokio::test]
    async fn a_session_refused_again_after_the_new_login_says_so() {
        let (report, logins) = run_against("Session expired or invalid", true).await;
        assert_eq!(logins, 2, "one login, one re-login, never more");
        assert_eq!(report.tally().failed, 3, "{report:#?}");
        for case in &report.cases[1..] {
            let p = case.outcome.problem().expect("failed");
            assert_eq!(p.failure.code, "INVALID_SESSION_ID");
            // Salesforce's text stays, with what happened after it.
            assert_eq!(
                p.failure.message,
                "Session expired or invalid (again right after a fresh login)"
            );
            assert!(
                p.hint.starts_with(
                    "Still INVALID_SESSION_ID right after a fresh login: sessions die at once"
                ),
                "{}",
                p.hint
            );
            assert!(p.hint.contains("Do not log in again"), "{}", p.hint);
            assert!(!p.hint.contains("Log in again once"), "{}", p.hint);
        }
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
        let w = &report.warnings[0];
        assert!(
            w.contains(
                "logged in again once (OAuth client-credentials token request to http://127.0.0.1:"
            ),
            "{w}"
        );
        assert!(
            w.contains("3 of 3 retries got INVALID_SESSION_ID again"),
            "{w}"
        );
        assert!(!w.contains("they passed"), "{w}");
    }

    #[tokio::test]
    async fn a_hung_login_names_the_flow_and_host() {
        // Accepts connections, never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", silent.local_addr().unwrap());
        // The run's deadline cuts it (the request timeout is far).
        let report = run_quietly(&base, &settings(60_000, 300)).await;
        let p = report.cases[0].outcome.problem().expect("login failed");
        assert_eq!(p.failure.code, error::TIMEOUT);
        assert!(
            p.failure
                .message
                .starts_with(&format!("OAuth client-credentials token request to {base}")),
            "{}",
            p.failure.message
        );
        drop(silent);
    }

    #[test]
    fn query_calls_name_the_object_or_check_and_the_host() {
        let url = url::Url::parse("https://acme.my.salesforce.com/services").unwrap();
        let p = Planned {
            name: "query Account".into(),
            kind: CaseKind::Object,
            target: "Account".into(),
            soql: object_soql("Account", 0),
            min_rows: 0,
        };
        assert_eq!(
            p.call(&url),
            "query Account at https://acme.my.salesforce.com"
        );
        let p = Planned {
            name: "check: today".into(),
            kind: CaseKind::Check,
            target: "today".into(),
            soql: "SELECT Id FROM Opportunity".into(),
            min_rows: 0,
        };
        assert_eq!(
            p.call(&url),
            "query of check \"today\" at https://acme.my.salesforce.com"
        );
    }

    #[tokio::test]
    async fn a_session_not_valid_for_rest_is_not_cured_by_a_new_login() {
        let (report, logins) = run("This session is not valid for use with the REST API").await;
        assert_eq!(logins, 1);
        assert_eq!(report.tally().failed, 3);
        assert!(report.warnings.is_empty());
    }

    #[test]
    fn reference_ids_are_valid_and_unique_in_a_chunk() {
        let valid = |id: &str| {
            id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        let targets = [
            "Account",
            "Invoice__c",
            "todays opportunities",
            "ünïcode-名前",
            "Account",
        ];
        let ids: Vec<String> = targets
            .iter()
            .enumerate()
            .map(|(i, t)| reference_id(i, t))
            .collect();
        assert_eq!(ids[0], "q0_Account");
        assert_eq!(ids[1], "q1_Invoice__c");
        assert_eq!(ids[2], "q2_todays_opportunities");
        assert!(ids.iter().all(|id| valid(id)), "{ids:?}");
        let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        assert!(reference_id(0, &"x".repeat(500)).len() <= 43);
    }

    /// A server without /composite (404 with an empty body): the batched
    /// run falls back to single queries, says so once however many
    /// composites were refused, and the verdicts and the one re-login are
    /// those of the unbatched run.
    #[tokio::test]
    async fn a_refused_composite_falls_back_and_says_so_once() {
        let (base, logins) = relogin_server("Session expired or invalid", false).await;
        let mut o = org(&base);
        o.objects = (1..=7).map(|i| format!("Obj{i}__c")).collect();
        let s = Settings {
            batch: true,
            ..settings(10_000, 60_000)
        };
        let report = run_org(
            &o,
            &s,
            Arc::new(Mutex::new(Redactor::new())),
            Arc::new(|_: &str, _: &CaseReport| {}),
        )
        .await;
        assert_eq!(report.tally().passed, 8, "{report:#?}");
        assert_eq!(logins.load(Ordering::SeqCst), 2, "one re-login");
        let fallback: Vec<&String> = report
            .warnings
            .iter()
            .filter(|w| w.contains("POST /composite was refused"))
            .collect();
        assert_eq!(fallback.len(), 1, "{:?}", report.warnings);
        assert!(
            fallback[0].contains("each query was sent on its own"),
            "{}",
            fallback[0]
        );
        assert!(report
            .warnings
            .iter()
            .any(|w| w.contains("logged in again once")));
    }

    /// `totalSize` decides, so a `COUNT()` query (no records) counts too.
    #[test]
    fn fewer_rows_than_min_rows_fail_too_few_rows() {
        let case = Planned {
            name: "check: open".into(),
            kind: CaseKind::Check,
            target: "open".into(),
            soql: "SELECT COUNT() FROM Opportunity".into(),
            min_rows: 2,
        };
        let answer = |total_size| QueryResult {
            total_size,
            done: true,
            records: vec![],
        };
        let redactor = Redactor::new();
        let ok = passed(&case, &answer(2), "", &redactor);
        assert!(matches!(ok, Outcome::Passed { .. }), "{ok:?}");
        let Outcome::Failed(p) = passed(&case, &answer(1), "", &redactor) else {
            panic!("one row of two must fail")
        };
        assert_eq!(p.failure.code, "TOO_FEW_ROWS");
        let text =
            "expected at least 2 rows, got 1: the query ran, so login and object Read are fine";
        assert!(p.failure.message.starts_with(text), "{}", p.failure.message);
        assert!(p.hint.contains("sharing rule"), "{}", p.hint);
    }

    #[test]
    fn object_soql_is_trivial() {
        assert_eq!(object_soql("Account", 0), "SELECT Id FROM Account LIMIT 1");
        assert_eq!(
            object_soql("Account", 12),
            "SELECT Id FROM Account LIMIT 12"
        );
        assert_eq!(
            soql_limit("select Id from A where B = 'limit' LIMIT 5"),
            Some(5)
        );
        assert_eq!(soql_limit("SELECT COUNT() FROM Opportunity"), None);
    }
}
