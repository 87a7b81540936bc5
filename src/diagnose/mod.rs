//! Diagnosis with an auditor connection: when the gate hits an access,
//! credentials or version failure, query the org's setup objects as the
//! auditor (`[orgs.<name>.diagnose]`) and name the cause that holds.
//!
//! Three layers, kept apart so the reasoning can be tested without a server:
//! - [`facts`]: the SOQL queries, run through the [`SetupQuery`] trait;
//! - [`reason`]: a pure function from facts (and the smoke.lock entry, when
//!   there is one) to a [`Diagnosis`];
//! - [`manual`]: without an auditor, the checks to do by hand.
//!
//! The gate calls one function per org, [`attach`], after its checks: it
//! fills `Problem.diagnosis` of every failed case diagnosis can help with
//! (not network, timeout, quota, malformed query...) and adds the "access
//! drift" case when smoke.lock exists.

pub mod facts;
pub mod manual;
pub mod reason;
pub mod rest;

pub use facts::{gather, Facts, SetupQuery, Target};
pub use manual::{manual_checks, Why};
pub use reason::{org_refuses_everyone, reason, Family};

use crate::config::{Auth, OrgConfig};
use crate::salesforce::error::Failure;
use serde::Serialize;
use std::fmt;
use std::path::Path;

/// The cause a diagnosis names. One per cause in the seed, plus "none found"
/// and "the auditor cannot see".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// No user with that username (or id) in the org.
    UserNotFound,
    /// The auth flow names no user and its login failed: the user's access
    /// could not be looked at.
    UserUnknown,
    /// The user is deactivated.
    UserInactive,
    /// A license without API access (Chatter Free, Identity).
    LicenseWithoutApi,
    /// An edition without API access (Essentials, Professional without the
    /// add-on, ...).
    EditionWithoutApi,
    /// A trial org past its expiration date.
    TrialExpired,
    /// Neither the profile nor any permission set in force grants API Enabled.
    ApiNotEnabled,
    /// The permission set (or group) that granted API Enabled was unassigned,
    /// deactivated or expired.
    PermissionSetLost,
    /// The Connected App admits admin-approved users only and the user is
    /// not pre-authorized.
    ConnectedAppNotPreAuthorized,
    /// The configured API version is outside what the org supports.
    ApiVersionUnsupported,
    /// API access is fine but nothing grants Read on the queried object.
    ObjectNotReadable,
    /// The auditor could not read the setup objects it needs.
    AuditorCannotSee,
    /// Every checked setting is in order.
    NoneFound,
}

impl Cause {
    /// A short title, unique per cause (the first line of the diagnosis).
    pub fn title(self) -> &'static str {
        match self {
            Cause::UserNotFound => "integration user not found",
            Cause::UserUnknown => "integration user not identified",
            Cause::UserInactive => "integration user deactivated",
            Cause::LicenseWithoutApi => "user license without API access",
            Cause::EditionWithoutApi => "org edition without API access",
            Cause::TrialExpired => "trial org expired",
            Cause::ApiNotEnabled => "API Enabled not granted",
            Cause::PermissionSetLost => "permission set granting API Enabled lost",
            Cause::ConnectedAppNotPreAuthorized => "user not pre-authorized for the Connected App",
            Cause::ApiVersionUnsupported => "API version not supported",
            Cause::ObjectNotReadable => "object not readable",
            Cause::AuditorCannotSee => "auditor cannot read setup objects",
            Cause::NoneFound => "no access problem found",
        }
    }

    /// Every cause, for docs and tests.
    pub const ALL: [Cause; 13] = [
        Cause::UserNotFound,
        Cause::UserUnknown,
        Cause::UserInactive,
        Cause::LicenseWithoutApi,
        Cause::EditionWithoutApi,
        Cause::TrialExpired,
        Cause::ApiNotEnabled,
        Cause::PermissionSetLost,
        Cause::ConnectedAppNotPreAuthorized,
        Cause::ApiVersionUnsupported,
        Cause::ObjectNotReadable,
        Cause::AuditorCannotSee,
        Cause::NoneFound,
    ];
}

/// The result: one cause, why we think so, what to do, what we saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub cause: Cause,
    /// e.g. "profile 'Integration (cloned)' has API Enabled off and no
    /// assigned permission set grants it".
    pub explanation: String,
    /// e.g. "assign a permission set with API Enabled (e.g. 'Salesforce API
    /// Integration')".
    pub fix: String,
    /// One line per fact the queries found.
    pub evidence: Vec<String>,
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "diagnosis: {}", self.cause.title())?;
        writeln!(f, "cause: {}", self.explanation)?;
        write!(f, "fix: {}", self.fix)?;
        if !self.evidence.is_empty() {
            write!(f, "\nevidence:")?;
            for e in &self.evidence {
                write!(f, "\n  - {e}")?;
            }
        }
        Ok(())
    }
}

/// True for the failures a diagnosis can explain: access, credentials,
/// Connected App, API version, object access.
pub fn applies_to(failure: &Failure) -> bool {
    !matches!(Family::of(failure), Family::Other)
}

/// True when the org logs in through a Connected App (OAuth flows).
pub fn uses_connected_app(auth: &Auth) -> bool {
    !matches!(auth, Auth::SoapPassword { .. } | Auth::AccessToken { .. })
}

/// [`diagnose_org_with`] without a smoke.lock.
pub async fn diagnose_org(
    http: &reqwest::Client,
    org: &OrgConfig,
    failure: &Failure,
) -> Option<String> {
    diagnose_org_with(http, org, failure, None, None).await
}

/// The text for `Problem.diagnosis` of a failed case of `org`:
/// - `None` when the failure is not in the access / credentials / version
///   family ([`applies_to`]);
/// - without `[orgs.<name>.diagnose]`, or when the auditor cannot log in:
///   the checks to do by hand ([`manual_checks`]), saying which;
/// - with it: logs in as the auditor, queries the setup objects and names
///   the cause ([`Diagnosis`]'s `Display`). `lock_path` (smoke.lock, read if
///   it exists) lets it say "was granted by X"; `user_id` (from the
///   integration user's session, when the login worked) identifies the user
///   when the auth flow names none.
pub async fn diagnose_org_with(
    http: &reqwest::Client,
    org: &OrgConfig,
    failure: &Failure,
    lock_path: Option<&Path>,
    user_id: Option<&str>,
) -> Option<String> {
    if !applies_to(failure) {
        return None;
    }
    if org.diagnose.is_none() {
        return Some(manual_checks(&org.name, failure, Why::NoAuditor));
    }
    let known_good = lock_path
        .and_then(|p| crate::snapshot::read_lock(p).ok().flatten())
        .and_then(|lock| lock.orgs.get(&org.name).cloned());
    match diagnose(http, org, failure, known_good.as_ref(), user_id).await {
        Ok(d) => Some(d.to_string()),
        Err(f) => Some(manual_checks(
            &org.name,
            failure,
            Why::AuditorLoginFailed(&f),
        )),
    }
}

/// Log in as the auditor and diagnose. `Err` only when the auditor cannot
/// log in (or the org has no auditor) and that says nothing about the cause
/// (an auditor refused with `API_DISABLED_FOR_ORG` does: the whole org is).
pub async fn diagnose(
    http: &reqwest::Client,
    org: &OrgConfig,
    failure: &Failure,
    known_good: Option<&crate::snapshot::OrgSnapshot>,
    user_id: Option<&str>,
) -> Result<Diagnosis, Failure> {
    let audit = match crate::snapshot::connect_auditor(http, org).await {
        Ok(a) => a,
        Err(f) => return org_refuses_everyone(failure, &f, known_good).ok_or(f),
    };
    let target = crate::snapshot::resolve_target(http, org, user_id).await;
    let facts = gather(
        &audit,
        &target,
        &org.objects,
        uses_connected_app(&org.auth),
        chrono::Utc::now(),
    )
    .await;
    Ok(reason(
        &facts,
        failure,
        known_good,
        &org.api_version,
        uses_connected_app(&org.auth),
    ))
}

/// What [`attach`] needs beyond the org and its report.
#[derive(Clone, Copy, Debug, Default)]
pub struct Attach<'a> {
    /// smoke.lock (read when it exists): adds the "access drift" case and
    /// lets a diagnosis say "was granted by X".
    pub lock_path: Option<&'a Path>,
    /// Add the "access drift" case (false for `--update-snapshot` runs,
    /// which call [`crate::snapshot::update`] instead).
    pub drift: bool,
    /// The integration user's id from its session, when the login worked.
    pub user_id: Option<&'a str>,
    /// Scrubs every diagnosis text.
    pub redactor: Option<&'a crate::secret::Redactor>,
    /// The run's deadline: what has not finished by then is cut short (the
    /// diagnosis says so, the drift case becomes a `TIMEOUT` error).
    pub deadline: Option<tokio::time::Instant>,
}

async fn bounded<T>(
    deadline: Option<tokio::time::Instant>,
    what: &str,
    fut: impl std::future::Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    match deadline {
        None => fut.await,
        Some(d) => tokio::time::timeout_at(d, fut).await.unwrap_or_else(|_| {
            Err(Failure::new(
                crate::salesforce::error::Origin::Timeout,
                "TIMEOUT",
                format!("{what} had not finished when the run's deadline passed"),
            ))
        }),
    }
}

/// The gate's one call per org, after its checks: fill `Problem.diagnosis`
/// of every failed case that diagnosis applies to (one auditor login and one
/// round of queries per org, however many cases failed), then append the
/// "access drift" case when `opts.drift` and smoke.lock exists.
pub async fn attach(
    http: &reqwest::Client,
    org: &OrgConfig,
    report: &mut crate::report::OrgReport,
    opts: &Attach<'_>,
) {
    use crate::report::Outcome;
    let redact = |s: String| match opts.redactor {
        Some(r) => r.redact(&s),
        None => s,
    };
    let lock = opts
        .lock_path
        .and_then(|p| crate::snapshot::read_lock(p).ok().flatten());
    let known_good = lock.as_ref().and_then(|l| l.orgs.get(&org.name));
    let wanted: Vec<usize> = report
        .cases
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.outcome
                .problem()
                .is_some_and(|p| p.diagnosis.is_none() && applies_to(&p.failure))
        })
        .map(|(i, _)| i)
        .collect();

    // One auditor round for all failed cases (and the drift check). The
    // outer `Err` is the deadline, the inner one the auditor's login.
    let mut facts: Option<Result<Facts, (Failure, bool)>> = None;
    if !wanted.is_empty() {
        facts = match &org.diagnose {
            None => None,
            Some(_) => {
                let round = bounded(opts.deadline, "the diagnosis", async {
                    let source = match crate::snapshot::connect_auditor(http, org).await {
                        Ok(s) => s,
                        Err(f) => return Ok(Err(f)),
                    };
                    let target = crate::snapshot::resolve_target(http, org, opts.user_id).await;
                    Ok::<_, Failure>(Ok(gather(
                        &source,
                        &target,
                        &org.objects,
                        uses_connected_app(&org.auth),
                        chrono::Utc::now(),
                    )
                    .await))
                })
                .await;
                Some(match round {
                    Ok(Ok(facts)) => Ok(facts),
                    Ok(Err(login)) => Err((login, true)),
                    Err(cut) => Err((cut, false)),
                })
            }
        };
        for i in wanted {
            let case = &mut report.cases[i];
            let (Outcome::Failed(p) | Outcome::Errored(p)) = &mut case.outcome else {
                continue;
            };
            let text = match &facts {
                None => manual_checks(&org.name, &p.failure, Why::NoAuditor),
                Some(Ok(facts)) => reason(
                    facts,
                    &p.failure,
                    known_good,
                    &org.api_version,
                    uses_connected_app(&org.auth),
                )
                .to_string(),
                Some(Err((f, true))) => match org_refuses_everyone(&p.failure, f, known_good) {
                    Some(d) => d.to_string(),
                    None => manual_checks(&org.name, &p.failure, Why::AuditorLoginFailed(f)),
                },
                Some(Err((f, false))) => manual_checks(&org.name, &p.failure, Why::CutShort(f)),
            };
            p.diagnosis = Some(redact(text));
        }
    }

    if opts.drift {
        if let Some(path) = opts.lock_path {
            let case = match &facts {
                Some(Ok(f)) if f.user.is_some() => {
                    crate::snapshot::drift_case_from_facts(org, path, f)
                }
                _ => {
                    let fut = async { Ok(crate::snapshot::drift_case(http, org, path).await) };
                    match bounded(opts.deadline, "the access drift check", fut).await {
                        Ok(c) => c,
                        Err(f) => Some(crate::report::CaseReport {
                            name: "access drift".into(),
                            kind: crate::report::CaseKind::Drift,
                            target: crate::snapshot::LOCK_FILE.into(),
                            soql: None,
                            duration: std::time::Duration::ZERO,
                            outcome: Outcome::from_failure(
                                f.clone(),
                                crate::triage::hint_for(&f),
                                None,
                            ),
                        }),
                    }
                }
            };
            if let Some(mut case) = case {
                if let Some(p) = match &mut case.outcome {
                    Outcome::Failed(p) | Outcome::Errored(p) => Some(p),
                    _ => None,
                } {
                    p.failure.message = redact(std::mem::take(&mut p.failure.message));
                    p.diagnosis = p.diagnosis.take().map(&redact);
                }
                report.cases.push(case);
            }
        }
    }
}

#[cfg(test)]
mod tests;
