//! Diagnosis: when the gate hits an access, credentials or version failure,
//! name the cause that holds, from the facts [`crate::audit`] read as the
//! org's auditor (`[orgs.<name>.diagnose]`). Pure: no network here.
//!
//! - [`mod@reason`]: from facts (and the smoke.lock entry, when there is one)
//!   to a [`Diagnosis`];
//! - [`eca`]: which External Client App a refusal points at, by policy;
//! - [`grants`]: which grant of Read went away, per smoke.lock;
//! - [`rows`]: a check that returned fewer rows than `min_rows`: sharing,
//!   or no data (the auditor runs the same query);
//! - [`trail`]: who changed it and when (Setup Audit Trail entries that
//!   mention what the diagnosis implicates);
//! - [`manual`]: without an auditor (or when it could not read), the checks
//!   to do by hand.
//!
//! [`explain`] gives the text for `Problem.diagnosis` of one failed case.

pub mod eca;
pub mod grants;
pub mod manual;
pub mod reason;
pub mod rows;
pub mod trail;

pub use crate::audit::facts::uses_connected_app;
pub use manual::{manual_checks, Why};
pub use reason::{org_refuses_everyone, reason, Family, Flow};

use crate::audit::access::OrgSnapshot;
use crate::audit::round::Round;
use crate::config::OrgConfig;
use crate::salesforce::error::Failure;
use serde::Serialize;
use std::fmt;

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
    /// An External Client App admits admin-approved users only and none of
    /// the user's permission sets is pre-authorized.
    EcaNotPreAuthorized,
    /// An External Client App's OAuth plugin (or every plugin) is off: the
    /// token endpoint knows no such client (`invalid_client_id`).
    EcaPluginOff,
    /// An External Client App's client credentials flow is off, has no
    /// run-as user, or its run-as user changed.
    EcaClientCredentials,
    /// An External Client App's OAuth scopes lack `api`: its sessions are
    /// refused by the REST API.
    EcaScopeWithoutApi,
    /// The configured API version is outside what the org supports.
    ApiVersionUnsupported,
    /// API access is fine but nothing grants Read on the queried object.
    ObjectNotReadable,
    /// The queried object does not exist in this org (a typo, not
    /// deployed, a package not installed).
    ObjectNotFound,
    /// The field a query names exists, but field-level security hides it
    /// from the user (nothing in force grants Read on it).
    FieldNotReadable,
    /// The field a query names is not defined on its object (a typo, not
    /// deployed, a custom field without `__c`).
    FieldNotFound,
    /// A check's query returned fewer rows than `min_rows`, and the
    /// auditor sees more: sharing hides them from the user.
    RecordsHidden,
    /// The auditor sees no more rows than the user: no data matches.
    NoMatchingData,
    /// The auditor could not read the setup objects it needs.
    AuditorCannotSee,
    /// The failure points at an External Client App whose policies the
    /// auditor could not read (the Metadata API needs Modify Metadata).
    EcaUnread,
    /// The auditor could not count the check's rows (no Read on the
    /// object): sharing and missing data cannot be told apart.
    AuditorCannotCount,
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
            Cause::EcaNotPreAuthorized => "user not pre-authorized for the External Client App",
            Cause::EcaPluginOff => "External Client App's OAuth plugin off",
            Cause::EcaClientCredentials => "External Client App's client credentials flow unusable",
            Cause::EcaScopeWithoutApi => "External Client App's scopes lack api",
            Cause::ApiVersionUnsupported => "API version not supported",
            Cause::ObjectNotReadable => "object not readable",
            Cause::ObjectNotFound => "object not in this org",
            Cause::FieldNotReadable => "field hidden by field-level security",
            Cause::FieldNotFound => "field not on this object",
            Cause::RecordsHidden => "records hidden by sharing",
            Cause::NoMatchingData => "no data matches the query",
            Cause::AuditorCannotSee => "auditor cannot read setup objects",
            Cause::EcaUnread => {
                "cause not confirmed: External Client App policies unreadable (needs Modify Metadata)"
            }
            Cause::AuditorCannotCount => "auditor cannot count the check's rows",
            Cause::NoneFound => "no access problem found",
        }
    }

    /// Every cause, for docs and tests.
    pub const ALL: [Cause; 24] = [
        Cause::UserNotFound,
        Cause::UserUnknown,
        Cause::UserInactive,
        Cause::LicenseWithoutApi,
        Cause::EditionWithoutApi,
        Cause::TrialExpired,
        Cause::ApiNotEnabled,
        Cause::PermissionSetLost,
        Cause::ConnectedAppNotPreAuthorized,
        Cause::EcaNotPreAuthorized,
        Cause::EcaPluginOff,
        Cause::EcaClientCredentials,
        Cause::EcaScopeWithoutApi,
        Cause::ApiVersionUnsupported,
        Cause::ObjectNotReadable,
        Cause::ObjectNotFound,
        Cause::FieldNotReadable,
        Cause::FieldNotFound,
        Cause::RecordsHidden,
        Cause::NoMatchingData,
        Cause::AuditorCannotSee,
        Cause::EcaUnread,
        Cause::AuditorCannotCount,
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
    /// Who changed it and when, from the Setup Audit Trail: "changed by Ada
    /// Admin (admin@acme.example) at 2026-12-05 23:14 UTC (7 h ago): ...",
    /// or why that is unknown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
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
        for c in &self.changes {
            writeln!(f, "{c}")?;
        }
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

/// The diagnosis of `failure` from what the auditor's `round` gave, or
/// `None` when there is nothing to reason over (the auditor could not log
/// in for a reason that says nothing about the org, or was cut short).
/// `soql` is the failed case's query: a `TOO_FEW_ROWS` is diagnosed by
/// running it as the auditor ([`rows`]; `None` when the rows could not be
/// counted).
pub fn diagnose(
    org: &OrgConfig,
    failure: &Failure,
    soql: Option<&str>,
    round: &Round,
    known_good: Option<&OrgSnapshot>,
) -> Option<Diagnosis> {
    match round {
        Round::Gathered(facts) => match (Family::of(failure), soql) {
            (Family::Rows, Some(soql)) => rows::diagnose(soql, failure, facts),
            _ => Some(reason(
                facts,
                failure,
                known_good,
                &org.api_version,
                Flow::of(&org.auth),
            )),
        },
        // An auditor refused with `API_DISABLED_FOR_ORG` does say something:
        // the whole org is refused.
        Round::AuditorLoginFailed(f) => org_refuses_everyone(failure, f, known_good),
        Round::LoginFailed(_) | Round::CutShort(_) => None,
    }
}

/// The text for `Problem.diagnosis` of a failed case of `org` that
/// diagnosis [`applies_to`]: the named cause ([`Diagnosis`]'s `Display`),
/// else the checks to do by hand, saying why (`round` is `None` without an
/// auditor). `known_good` (the org's smoke.lock entry) lets it say "was
/// granted by X"; `soql` is the failed case's query ([`diagnose`]).
pub fn explain(
    org: &OrgConfig,
    failure: &Failure,
    soql: Option<&str>,
    round: Option<&Round>,
    known_good: Option<&OrgSnapshot>,
) -> String {
    let Some(round) = round else {
        return manual_checks(&org.name, failure, Why::NoAuditor);
    };
    if let Some(d) = diagnose(org, failure, soql, round, known_good) {
        return d.to_string();
    }
    let why = match round {
        Round::Gathered(_) if matches!(Family::of(failure), Family::Rows) && soql.is_some() => {
            Why::RowsNotCounted
        }
        Round::AuditorLoginFailed(f) => Why::AuditorLoginFailed(f),
        Round::CutShort(f) => Why::CutShort(f),
        Round::Gathered(_) | Round::LoginFailed(_) => Why::NoAuditor,
    };
    manual_checks(&org.name, failure, why)
}

#[cfg(test)]
mod tests;
