//! Gathering: the few SOQL queries on setup objects that the reasoning needs,
//! run through a [`SetupQuery`] (a logged-in REST connection in production,
//! canned records in tests). Nothing here decides a cause.
//!
//! Objects and fields (Salesforce Object Reference): `User` (`IsActive`,
//! `UserType`, `ProfileId`), `Profile` (`PermissionsApiEnabled`,
//! `UserLicenseId`), `UserLicense` (`Name`, `LicenseDefinitionKey`),
//! `PermissionSetAssignment` (`AssigneeId`, `PermissionSetId`,
//! `PermissionSetGroupId`, `IsActive`, `ExpirationDate`), `PermissionSet`
//! (`PermissionsApiEnabled`, `IsOwnedByProfile`, `ProfileId`),
//! `PermissionSetGroup` (`MasterLabel`, `Status`), `Organization`
//! (`OrganizationType`, `IsSandbox`, `TrialExpirationDate`),
//! `ConnectedApplication` (`OptionsAllowAdminApprovedUsersOnly`),
//! `SetupEntityAccess` (`ParentId`, `SetupEntityId`, `SetupEntityType`),
//! `ObjectPermissions` (`ParentId`, `SobjectType`, `PermissionsRead`),
//! `FieldPermissions` (`ParentId`, `Field`, `PermissionsRead`),
//! `EntityDefinition` and `FieldDefinition` (`QualifiedApiName`).
//! Most need "View Setup and Configuration"; without it Salesforce answers
//! `INVALID_TYPE`, which lands in [`Facts::gaps`].

use super::eca::{self, ActingSet, EcaRead};
use crate::config::Auth;
use crate::salesforce::error::Failure;
use crate::salesforce::metadata::{Listed, Record};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

/// Read access to an org's setup, everything the audit asks an org: SOQL
/// (one query with all its pages, a batch of them, a count), the API
/// versions the org serves and the one this source reads at, REST retrieves,
/// and the Metadata API's list and read. Only batching has a default (none:
/// each query on its own); the rest is required, so a new source cannot skip
/// a read or a version check without a word.
pub trait SetupQuery {
    /// The `records` of every page of `GET .../query?q=<soql>`, each still
    /// shaped as Salesforce sends it (with `attributes`).
    fn query(&self, soql: &str) -> impl Future<Output = Result<Vec<Value>, Failure>> + Send;
    /// The `version` values of `GET /services/data/`, as sent.
    fn versions(&self) -> impl Future<Output = Result<Vec<String>, Failure>> + Send;
    /// [`SetupQuery::query`] of each of `soqls` at once (one `POST
    /// /composite`), answers in the same order; `None` when this source
    /// does not batch (then each query runs on its own).
    fn query_many(
        &self,
        soqls: &[String],
    ) -> impl Future<Output = Option<Vec<Result<Vec<Value>, Failure>>>> + Send {
        let _ = soqls;
        async { None }
    }
    /// `GET /services/data/vXX.X/<path>` of each of `paths` (REST
    /// retrieves, e.g. `sobjects/ExternalClientApplication/<id>?fields=..`),
    /// answers in the same order.
    fn get_many(
        &self,
        paths: &[String],
    ) -> impl Future<Output = Vec<Result<Value, Failure>>> + Send;
    /// The API version this source reads at (`None`: unknown, then nothing
    /// is skipped for being newer than it).
    fn api_version(&self) -> Option<String>;
    /// `totalSize` of `soql`'s first page: how many rows match, in one
    /// call whatever the count.
    fn count(&self, soql: &str) -> impl Future<Output = Result<u64, Failure>> + Send;
    /// Metadata API `listMetadata` of `types` (one call).
    fn list_metadata(
        &self,
        types: &[&str],
    ) -> impl Future<Output = Result<Vec<Listed>, Failure>> + Send;
    /// Metadata API `readMetadata` of `names` of one type (one call).
    fn read_metadata(
        &self,
        metadata_type: &str,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<Record>, Failure>> + Send;
}

/// Whose access to examine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    pub username: Option<String>,
    pub user_id: Option<String>,
}

impl Target {
    pub fn describe(&self) -> String {
        match (&self.username, &self.user_id) {
            (Some(u), _) => format!("user '{u}'"),
            (None, Some(id)) => format!("user id {id}"),
            (None, None) => "the integration user (unknown: this auth flow names no user)".into(),
        }
    }
}

/// The integration user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserFacts {
    pub id: String,
    pub username: String,
    /// `User.Name` (first and last name): the Setup Audit Trail's texts
    /// name users so.
    pub name: Option<String>,
    pub active: bool,
    pub user_type: Option<String>,
    pub profile_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileFacts {
    pub id: String,
    pub name: String,
    /// `Profile.PermissionsApiEnabled`, or its own permission set's.
    pub api_enabled: bool,
    pub license_id: Option<String>,
    /// The permission set the profile owns (`IsOwnedByProfile`), if seen.
    pub own_permission_set_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenseFacts {
    pub name: String,
    pub key: Option<String>,
}

/// One `PermissionSetAssignment` of the user (profile-owned rows excluded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub permission_set_id: String,
    /// The permission set's label (for a group: the group's aggregate set).
    pub permission_set: String,
    /// The permission set's API name (`Name`; for a group, its aggregate's).
    pub api_name: String,
    /// The permission set group's label when assigned through a group.
    pub group: Option<String>,
    pub group_status: Option<String>,
    pub active: bool,
    pub expires: Option<DateTime<Utc>>,
    /// The permission set (or the group's aggregate) has API Enabled.
    pub grants_api: bool,
}

impl Assignment {
    /// Active and not expired at `now`.
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.active && self.expires.is_none_or(|e| e > now)
    }

    /// `permission set 'X'` or `permission set group 'G'`.
    pub fn source(&self) -> String {
        match &self.group {
            Some(g) => format!("permission set group '{g}'"),
            None => format!("permission set '{}'", self.permission_set),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgFacts {
    pub name: Option<String>,
    /// `Organization.OrganizationType`, e.g. `Enterprise Edition`.
    pub edition: String,
    pub is_sandbox: bool,
    pub trial_expires: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppFacts {
    pub id: String,
    pub name: String,
    /// Permitted Users = "Admin approved users are pre-authorized".
    pub admin_approved_only: bool,
    /// Which of the user's profile / permission sets pre-authorize it for
    /// this app (`SetupEntityAccess`), as `profile 'P'` / `permission set 'S'`.
    pub preauthorized_via: Vec<String>,
}

/// A permission set or permission set group of the org that grants API
/// Enabled: a fix that exists, listed when nothing assigned grants it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grantor {
    /// `Label` (a group's `MasterLabel`).
    pub label: String,
    /// `Name` (a group's `DeveloperName`).
    pub api_name: String,
    pub group: bool,
    /// The license the set is tied to when the user's license is another
    /// one: Salesforce refuses to assign it to this user.
    pub needs_license: Option<String>,
}

impl Grantor {
    /// `permission set 'Label' (Api_Name)` or `permission set group ...`.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.source(), self.api_name)
    }

    /// `permission set 'Label'` / `permission set group 'Label'`, as
    /// [`Assignment::source`] and smoke.lock say it.
    pub fn source(&self) -> String {
        let kind = if self.group {
            "permission set group"
        } else {
            "permission set"
        };
        format!("{kind} '{}'", self.label)
    }

    /// Whether it can be assigned to the user (license fit).
    pub fn fits(&self) -> bool {
        self.needs_license.is_none()
    }
}

/// One `SetupAuditTrail` entry: who changed what in Setup, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrailEntry {
    pub action: String,
    pub section: String,
    /// What changed, as Setup words it (names, not ids).
    pub display: String,
    pub at: DateTime<Utc>,
    /// `CreatedBy.Name` and `CreatedBy.Username`.
    pub by_name: Option<String>,
    pub by_username: Option<String>,
    /// The admin who was logged in as `by_*` (`DelegateUser`).
    pub delegate: Option<String>,
}

/// The Setup Audit Trail read for the diagnosis: entries since `since`,
/// newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trail {
    pub since: DateTime<Utc>,
    pub entries: Vec<TrailEntry>,
}

/// At most this many Setup Audit Trail entries are read (newest first).
pub const TRAIL_LIMIT: usize = 500;

/// The entries of the Setup Audit Trail since `since`, newest first.
/// Every entry is read (filtering happens in the diagnosis, by the names
/// it implicates: Salesforce does not document every Action code, and
/// Display cannot be filtered in SOQL). A failure is a `SetupAuditTrail`
/// [`Gap`].
pub async fn read_trail<Q: SetupQuery>(q: &Q, since: DateTime<Utc>) -> Result<Trail, Gap> {
    match q.query(&trail_soql(since)).await {
        Ok(rows) => Ok(parse_trail(&rows, since)),
        Err(failure) => Err(Gap {
            object: "SetupAuditTrail".into(),
            failure,
        }),
    }
}

fn trail_soql(since: DateTime<Utc>) -> String {
    format!(
        "SELECT Id, Action, Section, Display, CreatedDate, CreatedBy.Name, CreatedBy.Username, \
         DelegateUser FROM SetupAuditTrail WHERE CreatedDate >= {} ORDER BY CreatedDate DESC \
         LIMIT {TRAIL_LIMIT}",
        since.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

fn parse_trail(rows: &[Value], since: DateTime<Utc>) -> Trail {
    let mut entries: Vec<TrailEntry> = rows
        .iter()
        .filter_map(|r| {
            let by = r.get("CreatedBy");
            Some(TrailEntry {
                action: s(r, "Action").unwrap_or_default(),
                section: s(r, "Section").unwrap_or_default(),
                display: s(r, "Display")?,
                at: dt(r, "CreatedDate")?,
                by_name: by.and_then(|b| s(b, "Name")),
                by_username: by.and_then(|b| s(b, "Username")),
                delegate: s(r, "DelegateUser"),
            })
        })
        .filter(|e| e.at >= since)
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.at));
    Trail { since, entries }
}

/// The [`Gap`] object of the query listing [`Grantor`]s.
pub const GRANTORS: &str = "permission sets with API Enabled";
/// The [`Gap`] object of the query listing [`Facts::object_grantors`].
pub const READ_GRANTORS: &str = "permission sets granting Read";
/// The [`Gap`] object of the query listing [`Facts::view_all_grantors`].
pub const VIEW_ALL_GRANTORS: &str = "permission sets granting View All";
/// The [`Gap`] object of the queries behind [`Facts::grants_exist`].
pub const LOOKED_UP: &str = "permission sets named in smoke.lock";

/// What a diagnosis asks for beyond the access itself.
#[derive(Clone, Debug, Default)]
pub struct Extra {
    /// Read the Setup Audit Trail since then (who changed what).
    pub trail_since: Option<DateTime<Utc>>,
    /// Sources (`permission set 'S'`, `permission set group 'G'`) whose
    /// existence to check when a configured object is unreadable or a
    /// refused field hidden: what smoke.lock says granted Read on objects
    /// and fields ([`Facts::grants_exist`]).
    pub lookup: Vec<String>,
    /// `Object.Field`s whose Read grants to read ([`Facts::field_read`]):
    /// the fields the org's checks name. [`crate::audit::read_in`] fills it
    /// from the org ([`super::fields::of_checks`]), replacing what a
    /// caller put here; [`gather_with`] callers set it themselves.
    pub fields: Vec<String>,
    /// `Object.Field`s a query was refused for (`INVALID_FIELD`): whether
    /// they exist and what grants Read on them in this org too.
    pub refused_fields: Vec<String>,
    /// What to read of the External Client Apps (default: everything).
    pub eca: eca::Needs,
    /// The queries of checks that returned fewer rows than `min_rows`
    /// (`TOO_FEW_ROWS`): how many rows the auditor counts, and the sharing
    /// of their objects ([`Facts::rows_seen`]).
    pub rows: Vec<String>,
    /// smoke.lock's username for the org: the user to read when the flow
    /// names none and its login reported no id (a failed client
    /// credentials login), so the drift case still compares that user.
    pub recorded_user: Option<String>,
}

/// `(is a group, label)` of `permission set 'S'` / `permission set group
/// 'G'`; `None` for a profile or anything else.
pub fn set_label(source: &str) -> Option<(bool, &str)> {
    let (group, rest) = match source.strip_prefix("permission set group '") {
        Some(rest) => (true, rest),
        None => (false, source.strip_prefix("permission set '")?),
    };
    Some((group, rest.strip_suffix('\'')?))
}

/// A query that failed: which object (or `versions`), and Salesforce's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub object: String,
    pub failure: Failure,
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.object, self.failure.code, self.failure.message
        )
    }
}

/// Everything the queries found, plus what could not be read.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub target: Target,
    pub user: Option<UserFacts>,
    pub profile: Option<ProfileFacts>,
    pub license: Option<LicenseFacts>,
    pub assignments: Vec<Assignment>,
    pub org: Option<OrgFacts>,
    pub apps: Vec<AppFacts>,
    /// External Client Apps ([`eca`]), read with the Connected Apps.
    pub eca: EcaRead,
    /// Supported REST API versions, oldest first (empty when unknown).
    pub versions: Vec<String>,
    /// Object -> the sources granting Read (empty: none does). Only for the
    /// objects asked for.
    pub object_read: BTreeMap<String, Vec<String>>,
    /// For configured objects nothing grants Read on: whether the org has
    /// them at all (`EntityDefinition`); absent when not asked or unread.
    pub object_exists: BTreeMap<String, bool>,
    /// For configured objects nothing grants the user Read on: every
    /// profile, permission set and group of this org that does (as
    /// sources, sorted); absent when not asked or unread ([`READ_GRANTORS`]
    /// gap).
    pub object_grantors: BTreeMap<String, Vec<String>>,
    /// `Object.Field` -> the sources granting the user Read on it
    /// (`FieldPermissions`; empty: none does, which for a field outside
    /// field-level security means nothing). Only for [`Extra::fields`].
    pub field_read: BTreeMap<String, Vec<String>>,
    /// For [`Extra::refused_fields`] nothing grants the user Read on:
    /// whether the field is defined on its object (`FieldDefinition`).
    pub field_exists: BTreeMap<String, bool>,
    /// For the same fields: every grant of Read on them in this org.
    pub field_grantors: BTreeMap<String, Vec<String>>,
    /// Permission sets and groups looked up by source ([`Extra::lookup`]:
    /// smoke.lock's grants of an object or field the user cannot read now):
    /// whether this org still has one of that label. Absent when unread.
    pub grants_exist: BTreeMap<String, bool>,
    /// When nothing in force grants API Enabled: the org's permission sets
    /// and groups that do, by label (empty with a [`GRANTORS`] gap when the
    /// query failed).
    pub api_grantors: Vec<Grantor>,
    /// For [`Extra::rows`]: the rows the auditor counts for each query
    /// (`totalSize`), or why it could not run it.
    pub rows_seen: BTreeMap<String, Result<u64, Failure>>,
    /// For the objects of those queries: `EntityDefinition`'s
    /// `InternalSharingModel` (`Private`, `Read`, `ReadWrite`, ...).
    pub sharing_model: BTreeMap<String, String>,
    /// For the same objects: every grant of View All on them in this org
    /// (as sources, sorted; [`VIEW_ALL_GRANTORS`] gap when unread).
    pub view_all_grantors: BTreeMap<String, Vec<String>>,
    /// The Setup Audit Trail, when it was read (for a diagnosis only).
    pub trail: Option<Trail>,
    /// Queries that failed.
    pub gaps: Vec<Gap>,
    pub now: DateTime<Utc>,
}

impl Facts {
    /// The user's permission sets in force now (not the profile's own).
    pub fn in_force(&self) -> impl Iterator<Item = &Assignment> {
        self.assignments.iter().filter(|a| a.in_force(self.now))
    }

    /// Where API Enabled comes from now: `profile 'P'`, `permission set 'S'`,
    /// `permission set group 'G'`; sorted, no duplicates.
    pub fn api_sources(&self) -> Vec<String> {
        let mut out = BTreeSet::new();
        if let Some(p) = &self.profile {
            if p.api_enabled {
                out.insert(format!("profile '{}'", p.name));
            }
        }
        for a in self.in_force().filter(|a| a.grants_api) {
            out.insert(a.source());
        }
        out.into_iter().collect()
    }

    /// True when the query of `object` failed.
    pub fn gap(&self, object: &str) -> bool {
        self.gaps.iter().any(|g| g.object == object)
    }

    /// `could not read <object> (CODE: message)` when the query of `object`
    /// failed: what to say instead of "not found" or "none".
    pub fn unread(&self, object: &str) -> Option<String> {
        self.gaps.iter().find(|g| g.object == object).map(|g| {
            let what = if g.object == "versions" {
                "could not list the API versions".to_string()
            } else {
                format!("could not read {}", g.object)
            };
            format!(
                "{what} ({}: {})",
                g.failure.code,
                g.failure.message.trim_end_matches('.')
            )
        })
    }

    /// (oldest, newest) supported version.
    pub fn version_range(&self) -> Option<(&str, &str)> {
        Some((
            self.versions.first()?.as_str(),
            self.versions.last()?.as_str(),
        ))
    }
}

/// True when the org logs in through a Connected App (OAuth flows): only
/// then do the Connected App's policy and pre-authorizations matter.
pub fn uses_connected_app(auth: &Auth) -> bool {
    !matches!(auth, Auth::SoapPassword { .. } | Auth::AccessToken { .. })
}

/// A SOQL string literal: quotes and backslashes escaped.
pub fn soql_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn soql_in(ids: &BTreeSet<String>) -> String {
    let parts: Vec<String> = ids.iter().map(|s| soql_quote(s)).collect();
    format!("({})", parts.join(", "))
}

fn s(v: &Value, field: &str) -> Option<String> {
    match v.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// A boolean field; `None` when absent or null.
fn b(v: &Value, field: &str) -> Option<bool> {
    match v.get(field) {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) => match s.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Salesforce datetimes (`2026-01-31T00:00:00.000+0000`), RFC 3339, or a
/// bare date (midnight UTC).
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(text) {
        return Some(d.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

fn dt(v: &Value, field: &str) -> Option<DateTime<Utc>> {
    s(v, field).and_then(|t| parse_datetime(&t))
}

/// Numeric order of API versions (`9.0` < `31.0` < `62.0`).
pub fn version_key(v: &str) -> (u32, u32) {
    let mut it = v.trim_start_matches('v').split('.');
    let major = it.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    let minor = it.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    (major, minor)
}

pub(super) struct Gatherer<'q, Q> {
    pub(super) q: &'q Q,
    pub(super) gaps: Vec<Gap>,
    /// Answers fetched ahead by [`Gatherer::prefetch`], by SOQL; each is
    /// used at most once, by the [`Gatherer::run`] of the same SOQL.
    ahead: BTreeMap<String, Result<Vec<Value>, Failure>>,
}

impl<Q: SetupQuery> Gatherer<'_, Q> {
    /// Run one query (or take its answer fetched ahead); on failure note
    /// the gap and return no records.
    pub(super) async fn run(&mut self, object: &str, soql: String) -> Option<Vec<Value>> {
        let answer = match self.ahead.remove(&soql) {
            Some(a) => a,
            None => self.q.query(&soql).await,
        };
        match answer {
            Ok(r) => Some(r),
            Err(f) => {
                tracing::debug!(object, code = %f.code, "setup query failed");
                self.gaps.push(Gap {
                    object: object.to_string(),
                    failure: f,
                });
                None
            }
        }
    }

    /// Fetch `soqls` (the `Some`s not fetched yet) together when the
    /// source can ([`SetupQuery::query_many`]: one composite), for the
    /// [`Gatherer::run`]s that follow. A query fetched and never run
    /// leaves no gap; a source that cannot batch leaves each to its run.
    async fn prefetch(&mut self, soqls: impl IntoIterator<Item = Option<String>>) {
        let mut wanted: Vec<String> = Vec::new();
        for soql in soqls.into_iter().flatten() {
            if !self.ahead.contains_key(&soql) && !wanted.contains(&soql) {
                wanted.push(soql);
            }
        }
        if wanted.is_empty() {
            return;
        }
        if let Some(answers) = self.q.query_many(&wanted).await {
            self.ahead.extend(wanted.into_iter().zip(answers));
        }
    }
}

const APPS_SOQL: &str =
    "SELECT Id, Name, OptionsAllowAdminApprovedUsersOnly FROM ConnectedApplication";
const ORG_SOQL: &str =
    "SELECT Id, Name, OrganizationType, IsSandbox, TrialExpirationDate FROM Organization";

fn user_soql(filter: &str) -> String {
    format!("SELECT Id, Username, Name, IsActive, UserType, ProfileId FROM User WHERE {filter}")
}

/// The user's assignments: by its id when known, else through the user
/// `filter` (a semi-join), so they need not wait for the user's answer.
fn psa_soql(user_id: Option<&str>, filter: &str) -> String {
    let assignee = match user_id {
        Some(id) => format!("AssigneeId = {}", soql_quote(id)),
        None => format!("AssigneeId IN (SELECT Id FROM User WHERE {filter})"),
    };
    format!(
        "SELECT Id, PermissionSetId, PermissionSetGroupId, IsActive, ExpirationDate \
         FROM PermissionSetAssignment WHERE {assignee}"
    )
}

/// The user's profile through the user `filter` (a semi-join on
/// `User.ProfileId`), so it need not wait for the user's answer.
fn profile_soql(filter: &str) -> String {
    format!(
        "SELECT Id, Name, PermissionsApiEnabled, UserLicenseId FROM Profile \
         WHERE Id IN (SELECT ProfileId FROM User WHERE {filter})"
    )
}

fn license_soql(license_id: &str) -> String {
    format!(
        "SELECT Id, Name, MasterLabel, LicenseDefinitionKey FROM UserLicense WHERE Id = {}",
        soql_quote(license_id)
    )
}

/// The permission set and permission set group queries for the user's
/// assignments `psa` (and the profile's own set); `None` when there is
/// nothing to ask.
fn permission_set_soqls(
    psa: &[Value],
    profile_id: Option<&String>,
) -> (Option<String>, Option<String>) {
    let ps_ids: BTreeSet<String> = psa.iter().filter_map(|r| s(r, "PermissionSetId")).collect();
    let group_ids: BTreeSet<String> = psa
        .iter()
        .filter_map(|r| s(r, "PermissionSetGroupId"))
        .collect();
    let profile_filter = profile_id.map(|p| format!("ProfileId = {}", soql_quote(p)));
    let ps_filter = match (ps_ids.is_empty(), &profile_filter) {
        (false, Some(pf)) => Some(format!("Id IN {} OR {pf}", soql_in(&ps_ids))),
        (false, None) => Some(format!("Id IN {}", soql_in(&ps_ids))),
        (true, Some(pf)) => Some(pf.clone()),
        (true, None) => None,
    };
    let ps = ps_filter.map(|filter| {
        format!(
            "SELECT Id, Name, Label, IsOwnedByProfile, ProfileId, PermissionSetGroupId, \
             PermissionsApiEnabled FROM PermissionSet WHERE {filter}"
        )
    });
    let groups = (!group_ids.is_empty()).then(|| {
        format!(
            "SELECT Id, DeveloperName, MasterLabel, Status FROM PermissionSetGroup WHERE Id IN {}",
            soql_in(&group_ids)
        )
    });
    (ps, groups)
}

fn object_permissions_soql(ps_ids: &BTreeSet<String>, objs: &BTreeSet<String>) -> String {
    format!(
        "SELECT Id, ParentId, SobjectType, PermissionsRead FROM ObjectPermissions \
         WHERE ParentId IN {} AND SobjectType IN {}",
        soql_in(ps_ids),
        soql_in(objs)
    )
}

fn setup_entity_access_soql(ps_ids: &BTreeSet<String>) -> String {
    format!(
        "SELECT Id, ParentId, SetupEntityId, SetupEntityType FROM SetupEntityAccess \
         WHERE SetupEntityType = 'ConnectedApplication' AND ParentId IN {}",
        soql_in(ps_ids)
    )
}

/// Every grant of Read on `keys` in the org, whoever holds it: from
/// `ObjectPermissions` by `SobjectType`, or `FieldPermissions` by `Field`.
fn read_grantors_soql(from: &str, key: &str, keys: &BTreeSet<String>) -> String {
    grantors_soql(from, key, keys, "PermissionsRead")
}

/// The grants of `permission` (`PermissionsRead`, `PermissionsViewAllRecords`)
/// on `keys` in `from`, with what each comes from.
fn grantors_soql(from: &str, key: &str, keys: &BTreeSet<String>, permission: &str) -> String {
    format!(
        "SELECT ParentId, Parent.Label, Parent.IsOwnedByProfile, Parent.Profile.Name, \
         Parent.PermissionSetGroupId, Parent.PermissionSetGroup.MasterLabel, {key} \
         FROM {from} WHERE {permission} = true AND {key} IN {}",
        soql_in(keys)
    )
}

/// For [`Extra::rows`] (checks that returned fewer rows than `min_rows`):
/// the auditor's count of each query, the org-wide default of each
/// query's object, and what grants View All on them. Asked only then, so a
/// healthy org pays nothing: one call per query, one composite for the rest.
async fn rows_read<Q: SetupQuery>(g: &mut Gatherer<'_, Q>, extra: &Extra, facts: &mut Facts) {
    for soql in &extra.rows {
        facts.rows_seen.insert(soql.clone(), g.q.count(soql).await);
    }
    let objects: BTreeSet<String> = extra
        .rows
        .iter()
        .filter_map(|q| super::fields::soql_object(q))
        .collect();
    if objects.is_empty() {
        return;
    }
    let defaults = format!(
        "SELECT QualifiedApiName, InternalSharingModel, ExternalSharingModel FROM EntityDefinition \
         WHERE QualifiedApiName IN {}",
        soql_in(&objects)
    );
    let view_all = "PermissionsViewAllRecords";
    let grantors = grantors_soql("ObjectPermissions", "SobjectType", &objects, view_all);
    g.prefetch([Some(defaults.clone()), Some(grantors.clone())])
        .await;
    if let Some(rows) = g.run("EntityDefinition", defaults).await {
        for r in &rows {
            if let (Some(o), Some(m)) = (s(r, "QualifiedApiName"), s(r, "InternalSharingModel")) {
                facts.sharing_model.insert(o, m);
            }
        }
    }
    if let Some(rows) = g.run(VIEW_ALL_GRANTORS, grantors).await {
        facts.view_all_grantors = read_grantors(&rows, &objects, "SobjectType");
    }
}

/// Object (or `Object.Field`) -> the sources granting Read on it, from
/// the rows of [`read_grantors_soql`], keyed by their `key` field; the filter is applied again on what came back.
fn read_grantors(
    rows: &[Value],
    keys: &BTreeSet<String>,
    key: &str,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> =
        keys.iter().map(|o| (o.clone(), Vec::new())).collect();
    for r in rows {
        if b(r, "PermissionsRead") == Some(false) {
            continue;
        }
        let (Some(obj), Some(parent)) = (s(r, key), r.get("Parent")) else {
            continue;
        };
        let source = if b(parent, "IsOwnedByProfile") == Some(true) {
            parent
                .get("Profile")
                .and_then(|p| s(p, "Name"))
                .map(|n| format!("profile '{n}'"))
        } else if s(parent, "PermissionSetGroupId").is_some() {
            parent
                .get("PermissionSetGroup")
                .and_then(|g| s(g, "MasterLabel"))
                .map(|l| format!("permission set group '{l}'"))
        } else {
            s(parent, "Label").map(|l| format!("permission set '{l}'"))
        };
        let key = out.keys().find(|k| k.eq_ignore_ascii_case(&obj)).cloned();
        if let (Some(source), Some(key)) = (source, key) {
            let list = out.entry(key).or_default();
            if !list.contains(&source) {
                list.push(source);
                list.sort();
            }
        }
    }
    out
}

/// Adds to `read` (object or `Object.Field`, by the rows' `key` field,
/// case-insensitively) the source of each row granting Read through a set
/// acting for the user (`acting`: set id -> source).
fn add_grants(
    rows: &[Value],
    key: &str,
    acting: &BTreeMap<String, String>,
    read: &mut BTreeMap<String, Vec<String>>,
) {
    for r in rows {
        let (Some(parent), Some(name)) = (s(r, "ParentId"), s(r, key)) else {
            continue;
        };
        if b(r, "PermissionsRead") != Some(true) {
            continue;
        }
        let src = acting.get(&parent);
        let list = read
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(&name))
            .map(|(_, v)| v);
        if let (Some(src), Some(list)) = (src, list) {
            if !list.contains(src) {
                list.push(src.clone());
                list.sort();
            }
        }
    }
}

/// The part of `Object.Field` before the dot.
pub fn field_object(field: &str) -> &str {
    field.split_once('.').map_or(field, |(o, _)| o)
}

fn field_permissions_soql(ps_ids: &BTreeSet<String>, fields: &BTreeSet<String>) -> String {
    format!(
        "SELECT Id, ParentId, SobjectType, Field, PermissionsRead FROM FieldPermissions \
         WHERE ParentId IN {} AND Field IN {}",
        soql_in(ps_ids),
        soql_in(fields)
    )
}

/// One `FieldDefinition` query per object (Salesforce wants the object
/// filtered with `=`), for the field names of `fields` on it.
fn field_definition_soqls(fields: &BTreeSet<String>) -> Vec<(String, String)> {
    let mut by_object: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in fields {
        if let Some((o, name)) = f.split_once('.') {
            by_object
                .entry(o.to_string())
                .or_default()
                .insert(name.to_string());
        }
    }
    by_object
        .into_iter()
        .map(|(o, names)| {
            let q = format!(
                "SELECT QualifiedApiName FROM FieldDefinition WHERE \
                 EntityDefinition.QualifiedApiName = {} AND QualifiedApiName IN {}",
                soql_quote(&o),
                soql_in(&names)
            );
            (o, q)
        })
        .collect()
}

/// The queries for the labels of `lookup`'s permission sets and groups.
fn lookup_soqls(lookup: &[String]) -> (Option<String>, Option<String>) {
    let mut sets = BTreeSet::new();
    let mut groups = BTreeSet::new();
    for (group, label) in lookup.iter().filter_map(|x| set_label(x)) {
        if group {
            groups.insert(label.to_string());
        } else {
            sets.insert(label.to_string());
        }
    }
    (
        (!sets.is_empty()).then(|| {
            format!(
                "SELECT Id, Label FROM PermissionSet WHERE IsOwnedByProfile = false AND Label IN {}",
                soql_in(&sets)
            )
        }),
        (!groups.is_empty()).then(|| {
            format!(
                "SELECT Id, MasterLabel FROM PermissionSetGroup WHERE MasterLabel IN {}",
                soql_in(&groups)
            )
        }),
    )
}

/// Whether each of `lookup` exists (by label, as smoke.lock names it);
/// a source whose query failed is left out.
async fn looked_up<Q: SetupQuery>(
    g: &mut Gatherer<'_, Q>,
    lookup: &[String],
    sets_q: Option<String>,
    groups_q: Option<String>,
) -> BTreeMap<String, bool> {
    let mut labels: BTreeMap<bool, BTreeSet<String>> = BTreeMap::new();
    for (group, q, field) in [(false, sets_q, "Label"), (true, groups_q, "MasterLabel")] {
        let Some(q) = q else { continue };
        if let Some(rows) = g.run(LOOKED_UP, q).await {
            labels.insert(group, rows.iter().filter_map(|r| s(r, field)).collect());
        }
    }
    lookup
        .iter()
        .filter_map(|src| {
            let (group, label) = set_label(src)?;
            let found = labels.get(&group)?;
            Some((src.clone(), found.contains(label)))
        })
        .collect()
}

/// The order gaps are listed in: the order the queries depend on each
/// other, whatever order they were sent in.
const GAP_ORDER: &[&str] = &[
    "Organization",
    "versions",
    "User",
    "Profile",
    "UserLicense",
    "PermissionSetAssignment",
    "PermissionSet",
    "PermissionSetGroup",
    GRANTORS,
    "ObjectPermissions",
    "FieldPermissions",
    "ConnectedApplication",
    "SetupEntityAccess",
    eca::OBJECT,
    eca::POLICIES,
    eca::SCOPES,
    "EntityDefinition",
    "FieldDefinition",
    READ_GRANTORS,
    LOOKED_UP,
    "SetupAuditTrail",
];

fn sorted_gaps(mut gaps: Vec<Gap>) -> Vec<Gap> {
    // Stable: gaps of the same object, or of one not listed (last), keep
    // the order they were met in.
    gaps.sort_by_key(|g| {
        GAP_ORDER
            .iter()
            .position(|o| *o == g.object)
            .unwrap_or(usize::MAX)
    });
    gaps
}

/// The Connected Apps and their permitted-users policy, sorted by name;
/// `None` when the query failed.
async fn apps<Q: SetupQuery>(g: &mut Gatherer<'_, Q>) -> Option<Vec<AppFacts>> {
    let rows = g.run("ConnectedApplication", APPS_SOQL.into()).await?;
    let mut apps: Vec<AppFacts> = rows
        .iter()
        .filter_map(|r| {
            Some(AppFacts {
                id: s(r, "Id")?,
                name: s(r, "Name").unwrap_or_default(),
                admin_approved_only: b(r, "OptionsAllowAdminApprovedUsersOnly").unwrap_or(false),
                preauthorized_via: Vec::new(),
            })
        })
        .collect();
    apps.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    Some(apps)
}

/// The org's permission sets and groups granting API Enabled (not a
/// profile's own), with their license fit for a user whose license id is
/// `user_license`; sorted by label. `None` when the query failed.
async fn grantors<Q: SetupQuery>(
    g: &mut Gatherer<'_, Q>,
    user_license: Option<&str>,
) -> Option<Vec<Grantor>> {
    let rows = g
        .run(
            GRANTORS,
            "SELECT Id, Name, Label, LicenseId, PermissionSetGroupId, PermissionsApiEnabled, \
             IsOwnedByProfile FROM PermissionSet WHERE PermissionsApiEnabled = true AND \
             IsOwnedByProfile = false ORDER BY Label"
                .into(),
        )
        .await?;
    // The filter again, on what came back: a name is never offered as a fix
    // unless its own row says it grants API Enabled.
    let rows: Vec<Value> = rows
        .into_iter()
        .filter(|r| {
            b(r, "PermissionsApiEnabled") == Some(true) && b(r, "IsOwnedByProfile") != Some(true)
        })
        .collect();
    let group_ids: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| s(r, "PermissionSetGroupId"))
        .collect();
    let mut groups: BTreeMap<String, (String, String)> = BTreeMap::new();
    if !group_ids.is_empty() {
        let soql = format!(
            "SELECT Id, DeveloperName, MasterLabel FROM PermissionSetGroup WHERE Id IN {}",
            soql_in(&group_ids)
        );
        for r in g.run(GRANTORS, soql).await.unwrap_or_default() {
            if let Some(id) = s(&r, "Id") {
                let name = s(&r, "DeveloperName").unwrap_or_else(|| id.clone());
                let label = s(&r, "MasterLabel").unwrap_or_else(|| name.clone());
                groups.insert(id, (label, name));
            }
        }
    }
    let foreign: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| s(r, "LicenseId"))
        .filter(|l| Some(l.as_str()) != user_license)
        .collect();
    let mut licenses: BTreeMap<String, String> = BTreeMap::new();
    if !foreign.is_empty() {
        let soql = format!(
            "SELECT Id, Name FROM UserLicense WHERE Id IN {}",
            soql_in(&foreign)
        );
        for r in g.run(GRANTORS, soql).await.unwrap_or_default() {
            if let (Some(id), Some(name)) = (s(&r, "Id"), s(&r, "Name")) {
                licenses.insert(id, name);
            }
        }
    }
    let mut out: Vec<Grantor> = rows
        .iter()
        .map(|r| {
            let needs_license = s(r, "LicenseId")
                .filter(|l| Some(l.as_str()) != user_license)
                .map(|l| licenses.get(&l).cloned().unwrap_or(l));
            let (label, api_name, group) = match s(r, "PermissionSetGroupId") {
                Some(gid) => {
                    let (label, name) = groups
                        .get(&gid)
                        .cloned()
                        .unwrap_or_else(|| (gid.clone(), gid.clone()));
                    (label, name, true)
                }
                None => {
                    let name = s(r, "Name").unwrap_or_default();
                    (s(r, "Label").unwrap_or_else(|| name.clone()), name, false)
                }
            };
            Grantor {
                label,
                api_name,
                group,
                needs_license,
            }
        })
        .collect();
    out.sort_by(|a, b| (a.group, &a.label).cmp(&(b.group, &b.label)));
    out.dedup();
    Some(out)
}

/// Run the queries for `target` and collect the facts. `objects` are the
/// configured objects whose Read permission to record; `with_apps` adds
/// the Connected App queries. Never fails as a whole: failed queries become
/// [`Facts::gaps`].
///
/// Queries that do not depend on each other's answers are fetched together
/// ([`SetupQuery::query_many`], three rounds when the user's id is known:
/// the org, the user, its assignments and the apps; its profile and
/// permission sets; its license, object permissions and the apps'
/// pre-authorizations), and the facts are the same as one query at a time.
pub async fn gather<Q: SetupQuery>(
    q: &Q,
    target: &Target,
    objects: &[String],
    with_apps: bool,
    now: DateTime<Utc>,
) -> Facts {
    gather_with(q, target, objects, with_apps, now, &Extra::default()).await
}

/// [`gather`], plus what `extra` asks for: the Setup Audit Trail since
/// `trail_since` (for a diagnosis: who changed what), fetched with the
/// first round; whether the sets in `lookup` still exist; who grants Read
/// on `fields` and `refused_fields` (and whether the refused ones exist);
/// the External Client Apps as `eca` needs them; and the auditor's row
/// count and the sharing of each query in `rows`.
pub async fn gather_with<Q: SetupQuery>(
    q: &Q,
    target: &Target,
    objects: &[String],
    with_apps: bool,
    now: DateTime<Utc>,
    extra: &Extra,
) -> Facts {
    let trail_since = extra.trail_since;
    let mut g = Gatherer {
        q,
        gaps: Vec::new(),
        ahead: BTreeMap::new(),
    };
    let mut facts = Facts {
        target: target.clone(),
        now,
        ..Facts::default()
    };
    let filter = match (&target.user_id, &target.username) {
        (Some(id), _) => Some(format!("Id = {}", soql_quote(id))),
        (None, Some(u)) => Some(format!("Username = {}", soql_quote(u))),
        (None, None) => None,
    };
    let psa_q = filter
        .as_deref()
        .map(|f| psa_soql(target.user_id.as_deref(), f));
    let profile_q = filter.as_deref().map(profile_soql);
    // Round one: nothing here depends on another's answer.
    g.prefetch([
        Some(ORG_SOQL.to_string()),
        filter.as_deref().map(user_soql),
        with_apps.then(|| APPS_SOQL.to_string()),
        // Without a user there is no round two to join.
        (with_apps && filter.is_none()).then(|| eca::SOQL.to_string()),
        psa_q.clone(),
        profile_q.clone(),
        // Past the composite limit of 5 queries: a composite of its own.
        trail_since.map(trail_soql),
    ])
    .await;
    if let Some(since) = trail_since {
        if let Some(rows) = g.run("SetupAuditTrail", trail_soql(since)).await {
            facts.trail = Some(parse_trail(&rows, since));
        }
    }

    if !extra.rows.is_empty() {
        rows_read(&mut g, extra, &mut facts).await;
    }

    // The org and its versions do not depend on the user.
    if let Some(rows) = g.run("Organization", ORG_SOQL.into()).await {
        facts.org = rows.first().map(|r| OrgFacts {
            name: s(r, "Name"),
            edition: s(r, "OrganizationType").unwrap_or_else(|| "unknown edition".into()),
            is_sandbox: b(r, "IsSandbox").unwrap_or(false),
            trial_expires: dt(r, "TrialExpirationDate"),
        });
    }
    match q.versions().await {
        Ok(mut v) => {
            v.sort_by_key(|x| version_key(x));
            v.dedup();
            facts.versions = v;
        }
        Err(f) => g.gaps.push(Gap {
            object: "versions".into(),
            failure: f,
        }),
    }

    // The user.
    let Some(filter) = filter else {
        // No user to look at; the apps' policies still tell an
        // `invalid_app_access` apart.
        if with_apps {
            facts.apps = apps(&mut g).await.unwrap_or_default();
            facts.eca = eca::read(&mut g, &[], None, &extra.eca).await;
        }
        facts.gaps = sorted_gaps(g.gaps);
        return facts;
    };
    let Some(rows) = g.run("User", user_soql(&filter)).await else {
        facts.gaps = sorted_gaps(g.gaps);
        return facts;
    };
    let Some(user) = rows.first().and_then(|r| {
        Some(UserFacts {
            id: s(r, "Id")?,
            username: s(r, "Username").unwrap_or_default(),
            name: s(r, "Name"),
            active: b(r, "IsActive").unwrap_or(true),
            user_type: s(r, "UserType"),
            profile_id: s(r, "ProfileId"),
        })
    }) else {
        facts.gaps = sorted_gaps(g.gaps);
        return facts;
    };

    // Salesforce also lists the profile's own permission set among the
    // assignments; it is folded into the profile below.
    let psa = match psa_q {
        Some(psa_q) => g
            .run("PermissionSetAssignment", psa_q)
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    if let (Some(pid), Some(profile_q)) = (&user.profile_id, profile_q) {
        if let Some(rows) = g.run("Profile", profile_q).await {
            facts.profile = rows.first().map(|r| ProfileFacts {
                id: s(r, "Id").unwrap_or_else(|| pid.clone()),
                name: s(r, "Name").unwrap_or_else(|| pid.clone()),
                api_enabled: b(r, "PermissionsApiEnabled").unwrap_or(false),
                license_id: s(r, "UserLicenseId"),
                own_permission_set_id: None,
            });
        }
    }
    let apps_read = if with_apps { apps(&mut g).await } else { None };

    // Round two: what depends on the user, its profile and assignments,
    // not on each other. The object permissions and pre-authorizations
    // are asked for every assigned set (the profile's own is among them);
    // only the sets acting for the user count below.
    let (ps_q, groups_q) = permission_set_soqls(&psa, user.profile_id.as_ref());
    let license_id = facts.profile.as_ref().and_then(|p| p.license_id.clone());
    let license_q = license_id.as_deref().map(license_soql);
    let assigned: BTreeSet<String> = psa.iter().filter_map(|r| s(r, "PermissionSetId")).collect();
    let objs: BTreeSet<String> = objects.iter().cloned().collect();
    let perms_ahead = (!objs.is_empty() && !assigned.is_empty())
        .then(|| object_permissions_soql(&assigned, &objs));
    let admin_approved = apps_read
        .as_ref()
        .is_some_and(|apps| apps.iter().any(|a| a.admin_approved_only));
    let access_ahead =
        (admin_approved && !assigned.is_empty()).then(|| setup_entity_access_soql(&assigned));
    let fields: BTreeSet<String> = extra
        .fields
        .iter()
        .chain(&extra.refused_fields)
        .cloned()
        .collect();
    let fields_ahead = (!fields.is_empty() && !assigned.is_empty())
        .then(|| field_permissions_soql(&assigned, &fields));
    g.prefetch([
        license_q.clone(),
        ps_q.clone(),
        groups_q.clone(),
        perms_ahead.clone(),
        fields_ahead.clone(),
        access_ahead.clone(),
        // Beyond 5 queries the source splits the composite.
        with_apps.then(|| eca::SOQL.to_string()),
    ])
    .await;

    let mut ps_by_id: BTreeMap<String, Value> = BTreeMap::new();
    if let Some(ps_q) = ps_q {
        if let Some(rows) = g.run("PermissionSet", ps_q).await {
            for r in rows {
                if let Some(id) = s(&r, "Id") {
                    ps_by_id.insert(id, r);
                }
            }
        }
    }
    let mut groups: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    if let Some(groups_q) = groups_q {
        if let Some(rows) = g.run("PermissionSetGroup", groups_q).await {
            for r in rows {
                if let Some(id) = s(&r, "Id") {
                    let label = s(&r, "MasterLabel")
                        .or_else(|| s(&r, "DeveloperName"))
                        .unwrap_or_else(|| id.clone());
                    groups.insert(id, (label, s(&r, "Status")));
                }
            }
        }
    }

    // The profile's own permission set: API Enabled may sit there too.
    let own = ps_by_id.values().find(|r| {
        b(r, "IsOwnedByProfile") == Some(true)
            && (s(r, "ProfileId") == user.profile_id || user.profile_id.is_none())
    });
    if let (Some(own), Some(profile)) = (own, facts.profile.as_mut()) {
        profile.own_permission_set_id = s(own, "Id");
        if b(own, "PermissionsApiEnabled") == Some(true) {
            profile.api_enabled = true;
        }
    }

    for r in &psa {
        let Some(ps_id) = s(r, "PermissionSetId") else {
            continue;
        };
        let ps = ps_by_id.get(&ps_id);
        if ps.and_then(|p| b(p, "IsOwnedByProfile")) == Some(true) {
            continue;
        }
        let group_id =
            s(r, "PermissionSetGroupId").or_else(|| ps.and_then(|p| s(p, "PermissionSetGroupId")));
        let (group, group_status) = match &group_id {
            Some(gid) => match groups.get(gid) {
                Some((label, status)) => (Some(label.clone()), status.clone()),
                None => (Some(gid.clone()), None),
            },
            None => (None, None),
        };
        facts.assignments.push(Assignment {
            permission_set: ps
                .and_then(|p| s(p, "Label").or_else(|| s(p, "Name")))
                .unwrap_or_else(|| ps_id.clone()),
            api_name: ps
                .and_then(|p| s(p, "Name"))
                .unwrap_or_else(|| ps_id.clone()),
            permission_set_id: ps_id,
            group,
            group_status,
            active: b(r, "IsActive").unwrap_or(true),
            expires: dt(r, "ExpirationDate"),
            grants_api: ps.and_then(|p| b(p, "PermissionsApiEnabled")) == Some(true),
        });
    }
    facts.assignments.sort_by(|a, b| {
        (a.source(), &a.permission_set_id).cmp(&(b.source(), &b.permission_set_id))
    });

    // The permission sets that act for the user now: the profile's own plus
    // every assignment in force.
    let own_id = facts
        .profile
        .as_ref()
        .and_then(|p| p.own_permission_set_id.clone());
    let mut acting: BTreeMap<String, String> = BTreeMap::new();
    if let (Some(id), Some(p)) = (&own_id, &facts.profile) {
        acting.insert(id.clone(), format!("profile '{}'", p.name));
    }
    for a in facts.assignments.iter().filter(|a| a.in_force(now)) {
        acting.insert(a.permission_set_id.clone(), a.source());
    }
    let ps_ids: BTreeSet<String> = acting.keys().cloned().collect();
    let acting_sets: Vec<ActingSet> = acting
        .iter()
        .map(|(id, source)| ActingSet {
            id: id.clone(),
            source: source.clone(),
            api_name: ps_by_id
                .get(id)
                .and_then(|p| s(p, "Name"))
                .unwrap_or_default(),
        })
        .collect();

    // The sets asked for ahead cover the acting ones unless the profile's
    // own set was not among the assignments: then ask for exactly those.
    let covered = ps_ids.is_subset(&assigned);
    let perms_q = (!objs.is_empty() && !ps_ids.is_empty()).then(|| match &perms_ahead {
        Some(q) if covered => q.clone(),
        _ => object_permissions_soql(&ps_ids, &objs),
    });
    let fields_q = (!fields.is_empty() && !ps_ids.is_empty()).then(|| match &fields_ahead {
        Some(q) if covered => q.clone(),
        _ => field_permissions_soql(&ps_ids, &fields),
    });
    let access_q = (admin_approved && !ps_ids.is_empty()).then(|| match &access_ahead {
        Some(q) if covered => q.clone(),
        _ => setup_entity_access_soql(&ps_ids),
    });

    if let (Some(lid), Some(license_q)) = (license_id, license_q) {
        if let Some(rows) = g.run("UserLicense", license_q).await {
            facts.license = rows.first().map(|r| LicenseFacts {
                name: s(r, "Name")
                    .or_else(|| s(r, "MasterLabel"))
                    .unwrap_or_else(|| lid.clone()),
                key: s(r, "LicenseDefinitionKey"),
            });
        }
    }

    // Nothing in force grants API Enabled: which sets of this org would.
    let grants_read = !["PermissionSetAssignment", "PermissionSet"]
        .iter()
        .any(|o| g.gaps.iter().any(|x| x.object == *o));
    if grants_read && facts.profile.is_some() && facts.api_sources().is_empty() {
        let license = facts.profile.as_ref().and_then(|p| p.license_id.clone());
        facts.api_grantors = grantors(&mut g, license.as_deref())
            .await
            .unwrap_or_default();
    }

    // Object permissions for the configured objects, field permissions for
    // the fields the checks name.
    facts.object_read = objs.iter().map(|o| (o.clone(), Vec::new())).collect();
    if let Some(perms_q) = perms_q {
        if let Some(rows) = g.run("ObjectPermissions", perms_q).await {
            add_grants(&rows, "SobjectType", &acting, &mut facts.object_read);
        }
    }
    facts.field_read = fields.iter().map(|f| (f.clone(), Vec::new())).collect();
    if let Some(fields_q) = fields_q {
        if let Some(rows) = g.run("FieldPermissions", fields_q).await {
            add_grants(&rows, "Field", &acting, &mut facts.field_read);
        }
    }
    // Refused fields nothing grants Read on: defined at all (a typo) or
    // hidden by field-level security, and what grants Read on them.
    let hidden: BTreeSet<String> = extra
        .refused_fields
        .iter()
        .filter(|f| facts.field_read.get(*f).is_some_and(Vec::is_empty))
        .cloned()
        .collect();
    // Objects nothing grants Read on: do they exist in this org at all? (A
    // query on an object without Read fails with INVALID_TYPE, as on one
    // that does not exist.) Asked only then, so a healthy org pays nothing.
    let unreadable: BTreeSet<String> = facts
        .object_read
        .iter()
        .filter(|(_, by)| by.is_empty())
        .map(|(o, _)| o.clone())
        .collect();
    let fields_hidden =
        !hidden.is_empty() && !g.gaps.iter().any(|x| x.object == "FieldPermissions");
    let objects_unreadable =
        !unreadable.is_empty() && !g.gaps.iter().any(|x| x.object == "ObjectPermissions");
    // What smoke.lock says granted Read on either: does it still exist?
    let (sets_q, groups_q) = if fields_hidden || objects_unreadable {
        lookup_soqls(&extra.lookup)
    } else {
        (None, None)
    };
    if fields_hidden {
        let defs = field_definition_soqls(&hidden);
        let grantors_q = read_grantors_soql("FieldPermissions", "Field", &hidden);
        g.prefetch(defs.iter().map(|(_, q)| Some(q.clone())).chain([
            Some(grantors_q.clone()),
            sets_q.clone(),
            groups_q.clone(),
        ]))
        .await;
        if let Some(rows) = g.run(READ_GRANTORS, grantors_q).await {
            facts.field_grantors = read_grantors(&rows, &hidden, "Field");
        }
        for (object, q) in defs {
            let Some(rows) = g.run("FieldDefinition", q).await else {
                continue;
            };
            let found: BTreeSet<String> = rows
                .iter()
                .filter_map(|r| s(r, "QualifiedApiName"))
                .map(|n| format!("{object}.{n}").to_ascii_lowercase())
                .collect();
            for f in hidden.iter().filter(|f| field_object(f) == object) {
                facts
                    .field_exists
                    .insert(f.clone(), found.contains(&f.to_ascii_lowercase()));
            }
        }
    }

    if objects_unreadable {
        let soql = format!(
            "SELECT QualifiedApiName FROM EntityDefinition WHERE QualifiedApiName IN {}",
            soql_in(&unreadable)
        );
        let grantors_q = read_grantors_soql("ObjectPermissions", "SobjectType", &unreadable);
        g.prefetch([
            Some(soql.clone()),
            Some(grantors_q.clone()),
            sets_q.clone(),
            groups_q.clone(),
        ])
        .await;
        if let Some(rows) = g.run(READ_GRANTORS, grantors_q).await {
            facts.object_grantors = read_grantors(&rows, &unreadable, "SobjectType");
        }
        if let Some(rows) = g.run("EntityDefinition", soql).await {
            let found: BTreeSet<String> = rows
                .iter()
                .filter_map(|r| s(r, "QualifiedApiName"))
                .map(|n| n.to_ascii_lowercase())
                .collect();
            for o in &unreadable {
                let exists = found.contains(&o.to_ascii_lowercase());
                facts.object_exists.insert(o.clone(), exists);
            }
        }
    }

    if fields_hidden || objects_unreadable {
        facts.grants_exist = looked_up(&mut g, &extra.lookup, sets_q, groups_q).await;
    }

    // Connected Apps: the permitted-users policy and who is pre-authorized.
    if let Some(mut apps) = apps_read {
        if let Some(access_q) = access_q {
            if let Some(rows) = g.run("SetupEntityAccess", access_q).await {
                for r in rows {
                    if s(&r, "SetupEntityType").is_some_and(|t| t != "ConnectedApplication") {
                        continue;
                    }
                    let (Some(parent), Some(entity)) = (s(&r, "ParentId"), s(&r, "SetupEntityId"))
                    else {
                        continue;
                    };
                    let Some(src) = acting.get(&parent) else {
                        continue;
                    };
                    if let Some(app) = apps.iter_mut().find(|a| a.id == entity) {
                        if !app.preauthorized_via.contains(src) {
                            app.preauthorized_via.push(src.clone());
                            app.preauthorized_via.sort();
                        }
                    }
                }
            }
        }
        facts.apps = apps;
    }
    if with_apps {
        facts.eca = eca::read(&mut g, &acting_sets, facts.profile.as_ref(), &extra.eca).await;
    }

    facts.user = Some(user);
    facts.gaps = sorted_gaps(g.gaps);
    facts
}
