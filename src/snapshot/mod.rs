//! `sfsmoke snapshot` and the access-drift check: record each integration
//! user's effective access at a known-good moment in `smoke.lock` (beside
//! smoke.toml, meant to be committed), and compare later runs against it.
//!
//! smoke.lock is TOML, sorted and stable, one table per org. Its one
//! timestamp per org, `recorded_at`, is kept while the access stays the
//! same, so the same access gives the same file byte for byte:
//!
//! ```toml
//! version = 2
//!
//! [orgs.prod]
//! username = "integration@acme.example"
//! active = true
//! license = "Salesforce Integration"
//! profile = "Minimum Access - API Only Integrations"
//! edition = "Enterprise Edition"
//! api_enabled_by = ["permission set 'Salesforce API Integration'"]
//! permission_sets = ["Salesforce API Integration", "Stripe Integration Access"]
//! permission_set_groups = []
//! preauthorized_apps = []
//! oldest_api_version = "31.0"
//! newest_api_version = "62.0"
//! recorded_at = "2026-12-05T08:00:00Z"
//!
//! [orgs.prod.objects]
//! Account = "read"
//! Opportunity = "none"
//!
//! [orgs.prod.objects_read_by]
//! Account = ["permission set 'Stripe Integration Access'"]
//!
//! [orgs.prod.fields_read_by]
//! "Opportunity.Amount" = ["permission set 'Stripe Integration Access'"]
//! ```
//!
//! Format 1 (no `recorded_at`, no `*_read_by`) is still read: its
//! entries simply say nothing about who granted Read, and the next
//! snapshot rewrites the file as format 2.
//!
//! A part the reading could not see ([`Part`]: the apps' pre-authorizations,
//! the External Client Apps' policies) is unknown, not empty: not compared
//! (one "not checked" line says why), and a recording keeps smoke.lock's
//! (a first one marks a list part `unrecorded`).
//!
//! Pure over what [`crate::audit`] read (no network here): [`drift_case`]
//! compares an org's current access with its entry (the "access drift"
//! testcase), [`record`] writes freshly read access into smoke.lock
//! (`sfsmoke snapshot`, `--update-snapshot`).

use crate::audit::access::EcaSnapshot;
pub use crate::audit::access::{OrgSnapshot, Part};
use crate::audit::facts::version_key;
use crate::config::OrgConfig;
use crate::report::{CaseKind, CaseReport, Outcome};
use crate::salesforce::error::{Failure, Origin};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The lock file's name.
pub const LOCK_FILE: &str = "smoke.lock";
/// The format version written in the file (2: Read grantors per object
/// and per field the checks select, and `recorded_at`).
pub const FORMAT_VERSION: u32 = 2;
/// The oldest format version still read.
pub const OLDEST_FORMAT_VERSION: u32 = 1;

const HEADER: &str = "\
# smoke.lock: each org's integration-user access at a known-good moment.
# Written by `sfsmoke snapshot` (or `sfsmoke smoke --update-snapshot`); commit it.
# `sfsmoke smoke` compares every run against it: any difference fails the
# \"access drift\" testcase, before the API itself starts refusing.
# Review changes like code: each line is access someone granted or removed.

";

/// smoke.lock: every snapshotted org by its key in smoke.toml.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub version: u32,
    #[serde(default)]
    pub orgs: BTreeMap<String, OrgSnapshot>,
}

/// What kind of difference a [`Drift`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    User,
    Active,
    License,
    Profile,
    Edition,
    ApiEnabled,
    PermissionSet,
    PermissionSetGroup,
    ConnectedApp,
    ExternalClientApp,
    ApiVersion,
    Object,
    /// A field the checks select lost its Read grant (field-level security).
    Field,
    /// Read on an object (or field) is still granted, by something else now:
    /// informational, never a failure (see [`DriftKind::informational`]).
    ReadGrantor,
    /// A part that could not be compared ([`Part`]): read neither now nor
    /// when smoke.lock was recorded. Never a failure, never "drift": the
    /// line says what went unchecked and why.
    Unchecked,
}

impl DriftKind {
    /// True for a change that leaves the access as it was (Read on an
    /// object now comes from another grant): reported, but the drift case
    /// passes. What the user can do is what smoke.lock promised; the line
    /// is there for review, and `sfsmoke snapshot` records the new grant.
    pub fn informational(self) -> bool {
        self == DriftKind::ReadGrantor
    }
}

/// One difference between smoke.lock and now, as a human line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Drift {
    pub kind: DriftKind,
    pub line: String,
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.line)
    }
}

/// Problems with smoke.lock itself.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{path}: cannot read: {source}\n  (hint: {})", read_hint(.source))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{col}: {message}\n  (hint: regenerate it with `sfsmoke snapshot`)")]
    Parse {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{path}: format version {found}, this sfsmoke reads {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}\n  (hint: regenerate it with `sfsmoke snapshot`)")]
    Version { path: PathBuf, found: u32 },
    #[error("{path}: cannot write: {source}\n  (hint: {})", write_hint(.source))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What the person on call can do about a smoke.lock that cannot be read.
fn read_hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => {
            "this user may not read it: check its owner and mode (`ls -l`); it is a plain text file meant to be committed"
        }
        std::io::ErrorKind::IsADirectory => {
            "a folder named smoke.lock is in the way: remove it, then record the access with `sfsmoke snapshot`"
        }
        _ => "check the file and the disk, or record it again with `sfsmoke snapshot`",
    }
}

/// What the person on call can do about a smoke.lock that cannot be written.
fn write_hint(e: &std::io::Error) -> &'static str {
    if crate::atomic::file_in_the_way(e).is_some() {
        return "a file sits where a folder of the path should be: move that file away";
    }
    match e.kind() {
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
            "the folder is not writable here (a read-only checkout?): run `sfsmoke snapshot` in a writable checkout and commit smoke.lock"
        }
        std::io::ErrorKind::IsADirectory => {
            "a folder named smoke.lock is in the way: remove it, then rerun"
        }
        _ => "check that the config's folder is writable and the disk is not full",
    }
}

/// `smoke.lock` beside the config file.
pub fn lock_path_for(config_path: &Path) -> PathBuf {
    match config_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(LOCK_FILE),
        _ => PathBuf::from(LOCK_FILE),
    }
}

/// Parse smoke.lock text.
pub fn parse_lock(path: &Path, text: &str) -> Result<Snapshot, LockError> {
    let snap: Snapshot = toml::from_str(text).map_err(|e| {
        let (line, col) = e
            .span()
            .map_or((0, 0), |s| crate::text::line_col(text, s.start));
        LockError::Parse {
            path: path.to_path_buf(),
            line,
            col,
            message: e.message().to_string(),
        }
    })?;
    if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&snap.version) {
        return Err(LockError::Version {
            path: path.to_path_buf(),
            found: snap.version,
        });
    }
    Ok(snap)
}

/// Read smoke.lock; `Ok(None)` when it does not exist.
pub fn read_lock(path: &Path) -> Result<Option<Snapshot>, LockError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_lock(path, &text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LockError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The file's text: header comment, then sorted TOML.
pub fn render_lock(snap: &Snapshot) -> String {
    let mut snap = snap.clone();
    snap.version = FORMAT_VERSION;
    for o in snap.orgs.values_mut() {
        o.normalize();
    }
    let body = toml::to_string_pretty(&snap).unwrap_or_default();
    format!("{HEADER}{body}")
}

/// Write smoke.lock atomically (temp file in the same directory + rename).
pub fn write_lock(path: &Path, snap: &Snapshot) -> Result<(), LockError> {
    let err = |source| LockError::Write {
        path: path.to_path_buf(),
        source,
    };
    crate::atomic::write_atomic(path, render_lock(snap).as_bytes()).map_err(err)
}

fn set_diff<'a>(old: &'a [String], new: &'a [String]) -> (Vec<&'a String>, Vec<&'a String>) {
    let o: BTreeSet<&String> = old.iter().collect();
    let n: BTreeSet<&String> = new.iter().collect();
    (
        o.difference(&n).copied().collect(),
        n.difference(&o).copied().collect(),
    )
}

/// Every difference between the known-good `old` and the current `new`, in
/// a fixed order: user (name, active), license, profile, edition, API
/// Enabled, permission sets, groups, Connected Apps, External Client Apps
/// (pre-authorizations, policies), the parts not checked (unread now or
/// never recorded), API versions, objects, fields, then Read grantors
/// (informational).
pub fn compare(old: &OrgSnapshot, new: &OrgSnapshot) -> Vec<Drift> {
    let mut out = Vec::new();
    let mut push = |kind, line: String| out.push(Drift { kind, line });
    if old.username != new.username {
        push(
            DriftKind::User,
            format!(
                "integration user changed from '{}' to '{}'",
                old.username, new.username
            ),
        );
    }
    // A deactivated user's assignments turn inactive with it, and its object
    // access lapses: those are consequences, not separate changes to undo.
    let deactivated = old.active && !new.active;
    if old.active != new.active {
        let line = if new.active {
            format!("user '{}' reactivated", new.username)
        } else {
            format!("user '{}' deactivated", new.username)
        };
        push(DriftKind::Active, line);
    }
    if old.license != new.license {
        push(
            DriftKind::License,
            format!(
                "license changed from '{}' to '{}'",
                old.license, new.license
            ),
        );
    }
    if old.profile != new.profile {
        push(
            DriftKind::Profile,
            format!(
                "profile changed from '{}' to '{}'",
                old.profile, new.profile
            ),
        );
    }
    if old.edition != new.edition {
        push(
            DriftKind::Edition,
            format!(
                "edition changed from '{}' to '{}'",
                old.edition, new.edition
            ),
        );
    }
    if old.trial_expires != new.trial_expires {
        let show = |s: &str| {
            if s.is_empty() {
                "none".to_string()
            } else {
                s.to_string()
            }
        };
        push(
            DriftKind::Edition,
            format!(
                "trial end changed from {} to {}",
                show(&old.trial_expires),
                show(&new.trial_expires)
            ),
        );
    }
    let (lost, gained) = set_diff(&old.api_enabled_by, &new.api_enabled_by);
    for s in &lost {
        push(
            DriftKind::ApiEnabled,
            format!("API Enabled no longer granted by {s}"),
        );
    }
    for s in &gained {
        push(
            DriftKind::ApiEnabled,
            format!("API Enabled now also granted by {s}"),
        );
    }
    if !lost.is_empty() && new.api_enabled_by.is_empty() {
        push(
            DriftKind::ApiEnabled,
            "API Enabled is granted by nothing now: API calls will fail with API_DISABLED_FOR_ORG"
                .into(),
        );
    }
    // Permission set (group) assignments; a lost one is implied by a
    // deactivation (above), so it is not listed again.
    let assignments = [
        (
            DriftKind::PermissionSet,
            "permission set",
            &old.permission_sets,
            &new.permission_sets,
        ),
        (
            DriftKind::PermissionSetGroup,
            "permission set group",
            &old.permission_set_groups,
            &new.permission_set_groups,
        ),
    ];
    for (kind, what, old_names, new_names) in assignments {
        let (lost, gained) = set_diff(old_names, new_names);
        for s in lost.into_iter().filter(|_| !deactivated) {
            push(kind, format!("{what} '{s}' no longer assigned"));
        }
        for s in gained {
            push(kind, format!("{what} '{s}' newly assigned"));
        }
    }
    // A part read neither now nor when recorded is not compared: an empty
    // list there means "unknown", and "no longer pre-authorized" from it
    // would be a false alarm.
    let unchecked = |part: Part| unchecked(old, new, part);
    let ca_unknown = unchecked(Part::ConnectedApps);
    if ca_unknown.is_none() {
        let (lost, gained) = set_diff(&old.preauthorized_apps, &new.preauthorized_apps);
        for s in lost {
            push(
                DriftKind::ConnectedApp,
                format!("no longer pre-authorized for Connected App '{s}'"),
            );
        }
        for s in gained {
            push(
                DriftKind::ConnectedApp,
                format!("newly pre-authorized for Connected App '{s}'"),
            );
        }
    }
    let eca_unknown = unchecked(Part::ExternalClientApps);
    // Unread policies only matter when smoke.lock has some to compare.
    let recorded = |f: fn(&EcaSnapshot) -> bool| old.external_client_apps.values().any(f);
    let policies_unknown =
        unchecked(Part::EcaPolicies).filter(|_| recorded(EcaSnapshot::has_policies));
    let scopes_unknown = unchecked(Part::EcaScopes)
        .filter(|_| policies_unknown.is_none() && recorded(|e| e.scopes.is_some()));
    let unknown = eca::Unknown {
        preauthorizations: eca_unknown.is_some(),
        policies: policies_unknown.is_some(),
    };
    for d in eca::compare(
        &old.external_client_apps,
        &new.external_client_apps,
        unknown,
    ) {
        push(d.kind, d.line);
    }
    for line in [ca_unknown, eca_unknown, policies_unknown, scopes_unknown]
        .into_iter()
        .flatten()
    {
        push(DriftKind::Unchecked, line);
    }
    let vk = version_key;
    // A newer newest version is a normal release, not drift; a retirement
    // (oldest raised) or a shrinking range is.
    if !old.oldest_api_version.is_empty()
        && !new.oldest_api_version.is_empty()
        && old.oldest_api_version != new.oldest_api_version
    {
        push(
            DriftKind::ApiVersion,
            format!(
                "oldest supported API version changed from {} to {}",
                old.oldest_api_version, new.oldest_api_version
            ),
        );
    }
    if !old.newest_api_version.is_empty()
        && !new.newest_api_version.is_empty()
        && vk(&new.newest_api_version) < vk(&old.newest_api_version)
    {
        push(
            DriftKind::ApiVersion,
            format!(
                "newest supported API version went down from {} to {}",
                old.newest_api_version, new.newest_api_version
            ),
        );
    }
    for (obj, was) in &old.objects {
        let Some(now) = new.objects.get(obj) else {
            continue;
        };
        if was == now {
            continue;
        }
        let line = if now == "read" {
            format!("object {obj} now readable (smoke.lock: {was})")
        } else if was == "read" && deactivated {
            continue;
        } else if was == "read" && now == "none" {
            format!(
                "object {obj} no longer readable: nothing grants Read on it now{}",
                granted_before(old, obj)
            )
        } else if was == "read" {
            format!("object {obj} no longer readable ({now})")
        } else {
            format!("object {obj} access changed from {was} to {now}")
        };
        push(DriftKind::Object, line);
    }
    // A field the checks select that nothing grants Read on any more.
    for (field, was_by) in &old.fields_read_by {
        let lost = new.fields_read_by.get(field).is_none_or(Vec::is_empty);
        if lost && !deactivated && !was_by.is_empty() && new.fields_read_by_known(field) {
            push(
                DriftKind::Field,
                format!(
                    "field {field} no longer readable (field-level security): nothing grants \
                     Read on it now (smoke.lock: from {})",
                    was_by.join(", ")
                ),
            );
        }
    }
    // Still readable, through other grants: informational. An entry of
    // format 1 recorded no grantors, so nothing is claimed then.
    let objects = old
        .objects_read_by
        .iter()
        .map(|(k, v)| (k, v, &new.objects_read_by));
    let fields = old
        .fields_read_by
        .iter()
        .map(|(k, v)| (k, v, &new.fields_read_by));
    for (obj, was_by, now) in objects.chain(fields) {
        let Some(now_by) = now.get(obj).filter(|b| !b.is_empty()) else {
            continue;
        };
        let (lost, gained) = set_diff(was_by, now_by);
        if lost.is_empty() && gained.is_empty() {
            continue;
        }
        let mut parts = Vec::new();
        if !gained.is_empty() {
            let also = if lost.is_empty() { "also " } else { "" };
            parts.push(format!("now {also}from {}", join_quoted(&gained)));
        }
        if !lost.is_empty() {
            parts.push(format!("no longer from {}", join_quoted(&lost)));
        }
        push(
            DriftKind::ReadGrantor,
            format!(
                "Read on {obj} {} (still readable, through {}: no action needed)",
                parts.join(", "),
                now_by.join(", ")
            ),
        );
    }
    out
}

/// `<part> not checked: <why>` when `part` could not be compared: `new`
/// could not read it, or `old` (smoke.lock) holds no reading of it. `None`
/// when both have it, or neither does (a recording that still cannot read
/// what smoke.lock never held: nothing changes).
fn unchecked(old: &OrgSnapshot, new: &OrgSnapshot, part: Part) -> Option<String> {
    let what = part.describe();
    if let Some(why) = new.unread.get(&part) {
        return Some(format!("{what} not checked: {why}"));
    }
    let never = |s: &OrgSnapshot| s.unrecorded.contains(&part);
    (never(old) && !never(new)).then(|| {
        format!(
            "{what} not checked: {LOCK_FILE} holds no reading of them (they could not be read \
             when it was recorded; `sfsmoke snapshot` records them once they can be)"
        )
    })
}

fn join_quoted(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// " (smoke.lock: from permission set 'X')" when the entry says what
/// granted Read on `obj`.
fn granted_before(old: &OrgSnapshot, obj: &str) -> String {
    match old.objects_read_by.get(obj).filter(|b| !b.is_empty()) {
        Some(by) => format!(" (smoke.lock: from {})", by.join(", ")),
        None => String::new(),
    }
}

/// An "access drift" testcase with `outcome`.
pub fn case(outcome: Outcome, duration: Duration) -> CaseReport {
    CaseReport {
        name: "access drift".into(),
        kind: CaseKind::Drift,
        target: LOCK_FILE.into(),
        soql: None,
        duration,
        outcome,
        retries: 0,
    }
}

fn failed(failure: Failure, diagnosis: Option<String>) -> Outcome {
    let hint = crate::triage::hint_for(&failure);
    Outcome::from_failure(failure, hint, diagnosis)
}

/// The outcome of comparing `old` with `new` (used by [`drift_case`]).
pub fn drift_outcome(org: &str, old: &OrgSnapshot, new: &OrgSnapshot) -> Outcome {
    let (unchecked, rest): (Vec<Drift>, Vec<Drift>) = compare(old, new)
        .into_iter()
        .partition(|d| d.kind == DriftKind::Unchecked);
    let (info, drifts): (Vec<Drift>, Vec<Drift>) =
        rest.into_iter().partition(|d| d.kind.informational());
    if drifts.is_empty() {
        let mut detail = format!("access matches {LOCK_FILE}");
        if !info.is_empty() {
            let lines: Vec<&str> = info.iter().map(|d| d.line.as_str()).collect();
            detail.push_str(&format!(
                "; {} (run `sfsmoke snapshot` to record it)",
                lines.join("; ")
            ));
        }
        for d in &unchecked {
            detail.push_str(&format!("; {}", d.line));
        }
        return Outcome::Passed {
            detail: Some(detail),
        };
    }
    let n = drifts.len();
    let lines: Vec<String> = drifts
        .iter()
        .chain(&info)
        .chain(&unchecked)
        .map(|d| d.line.clone())
        .collect();
    let failure = Failure::new(
        Origin::Sfsmoke,
        crate::codes::ACCESS_DRIFT,
        format!(
            "{n} difference{} from {LOCK_FILE}: {}",
            if n == 1 { "" } else { "s" },
            lines.join("; ")
        ),
    );
    let mut body = format!("access of org '{org}' differs from {LOCK_FILE}:\n");
    for l in &lines {
        body.push_str(&format!("  - {l}\n"));
    }
    // Otherwise the ACCESS_DRIFT hint's Fix (revert, or refresh smoke.lock)
    // says it all; a second hint line would repeat it.
    if drifts.iter().all(|d| d.kind == DriftKind::ApiVersion) {
        // Salesforce retires versions; nobody can undo that in Setup.
        body.push_str(
            "(hint: Salesforce retired API versions: if api_version in smoke.toml (or a client \
             of this org) uses one of them, move it to a supported version; then run `sfsmoke \
             snapshot` and commit smoke.lock)",
        );
    }
    let body = body.trim_end().to_string();
    failed(failure, Some(body))
}

/// The "access drift" testcase for `org`: its smoke.lock entry `old`
/// against the access read now (`Err`: why it could not be read). Passed
/// when nothing changed; Failed (`ACCESS_DRIFT`) listing each difference;
/// Failed/Errored, or Skipped when the integration user's own login failed
/// (the login case reports that), when the access could not be read.
pub fn drift_case(
    org: &OrgConfig,
    old: &OrgSnapshot,
    now: Result<OrgSnapshot, Failure>,
    duration: Duration,
) -> CaseReport {
    let outcome = match now {
        Ok(new) => drift_outcome(&org.name, old, &new),
        Err(f) => unreadable_outcome(org, f),
    };
    case(outcome, duration)
}

/// The "access drift" testcase when the run's deadline cut the reading
/// short (`cut` says so).
pub fn cut_short_case(cut: Failure, duration: Duration) -> CaseReport {
    case(failed(cut, None), duration)
}

/// smoke.lock's entry for `org` from the lock as the run read it (once,
/// [`read_lock`]): `Err` with the outcome to report when the file could
/// not be read or has no entry for `org`.
pub fn locked_entry(
    org: &OrgConfig,
    lock: &Result<Snapshot, LockError>,
    lock_path: &Path,
) -> Result<OrgSnapshot, Outcome> {
    match lock {
        Ok(lock) => lock
            .orgs
            .get(&org.name)
            .cloned()
            .ok_or_else(|| no_entry(org, lock_path)),
        Err(e) => {
            let f = Failure::new(Origin::Sfsmoke, crate::codes::CONFIG_ERROR, e.to_string());
            Err(failed(f, None))
        }
    }
}

fn no_entry(org: &OrgConfig, lock_path: &Path) -> Outcome {
    Outcome::Skipped {
        reason: format!(
            "{} has no entry for org '{}' (hint: run `sfsmoke snapshot --org {}`)",
            lock_path.display(),
            org.name,
            org.name
        ),
    }
}

fn unreadable_outcome(org: &OrgConfig, mut f: Failure) -> Outcome {
    let who = if org.diagnose.is_some() {
        "the auditor"
    } else {
        "the integration user"
    };
    f.message = format!("cannot read the current access as {who}: {}", f.message);
    match f {
        f if org.diagnose.is_none() && !matches!(f.origin, Origin::Rest | Origin::Sfsmoke) => {
            // The integration user's own login failed: the login case
            // already reports it.
            Outcome::Skipped {
                reason: format!("cannot read the current access: {f}"),
            }
        }
        f => {
            let hint = unreadable_hint(org, &f);
            failed(f, hint)
        }
    }
}

/// What to do when the access could not be read: only a refusal for lack
/// of permission is fixed by "View Setup and Configuration"; an expired
/// session or the quota is not (the triage hint covers those).
fn unreadable_hint(org: &OrgConfig, f: &Failure) -> Option<String> {
    if !crate::salesforce::error::cannot_read_setup(&f.code) {
        return None;
    }
    let section = format!("[orgs.{}.diagnose]", org.name);
    Some(if org.diagnose.is_some() {
        format!(
            "the auditor in {section} lacks \"View Setup and Configuration\"\n(hint: give it \
             that permission and \"API Enabled\" through a read-only permission set, then rerun)"
        )
    } else {
        format!(
            "the integration user reads its own access and lacks \"View Setup and \
             Configuration\"\n(hint: add an {section} auditor login that has it, or grant it \
             to the integration user)"
        )
    })
}

/// The result of refreshing one org's entry.
#[derive(Debug)]
pub struct Updated {
    pub org: String,
    /// Whether the org had an entry before.
    pub was_recorded: bool,
    /// The differences from the previous entry (empty for a new org), or
    /// why the entry could not be refreshed (the old entry is kept).
    pub result: Result<Vec<Drift>, Failure>,
    /// When `result` is a refusal for lack of permission: who lacks
    /// "View Setup and Configuration" and what to do, naming the org's
    /// `[orgs.<name>.diagnose]` section.
    pub diagnosis: Option<String>,
    /// The parts that could not be read now, one line each: kept as
    /// smoke.lock had them, or (a new entry) marked not recorded.
    pub kept: Vec<String>,
}

impl Updated {
    /// The org's "access drift" testcase for a `--update-snapshot` run:
    /// Passed saying what was recorded, or the failure to read the access.
    pub fn case(&self, duration: Duration) -> CaseReport {
        let detail = |text: String| {
            let mut text = text;
            for k in &self.kept {
                text.push_str(&format!("; {k}"));
            }
            Outcome::Passed { detail: Some(text) }
        };
        let outcome = match &self.result {
            Ok(_) if !self.was_recorded => {
                detail(format!("recorded in {LOCK_FILE} (--update-snapshot)"))
            }
            Ok(drifts) if drifts.is_empty() => {
                detail(format!("{LOCK_FILE} unchanged (--update-snapshot)"))
            }
            Ok(drifts) => detail(format!(
                "{LOCK_FILE} updated (--update-snapshot): {}",
                drifts
                    .iter()
                    .map(|d| d.line.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
            Err(f) => failed(f.clone(), self.diagnosis.clone()),
        };
        case(outcome, duration)
    }
}

/// smoke.lock as it is, or an empty one when it does not exist yet.
pub fn read_or_new(lock_path: &Path) -> Result<Snapshot, LockError> {
    Ok(read_lock(lock_path)?.unwrap_or(Snapshot {
        version: FORMAT_VERSION,
        orgs: BTreeMap::new(),
    }))
}

/// Record each org's access as read now into `lock` (other orgs' entries
/// are kept; an org whose access could not be read keeps its old entry) and
/// write smoke.lock atomically when at least one org was recorded. `Err`
/// only when smoke.lock cannot be written.
pub fn record(
    mut lock: Snapshot,
    lock_path: &Path,
    taken: Vec<(&OrgConfig, Result<OrgSnapshot, Failure>)>,
) -> Result<Vec<Updated>, LockError> {
    let mut out = Vec::new();
    for (org, result) in taken {
        let was_recorded = lock.orgs.contains_key(&org.name);
        let mut kept = Vec::new();
        let result = result.map(|mut new| {
            let old = lock.orgs.get(&org.name);
            kept = keep_unread(old, &mut new);
            keep_names(old, &mut new);
            let mut drifts = old.map(|old| compare(old, &new)).unwrap_or_default();
            drifts.retain(|d| d.kind != DriftKind::Unchecked);
            for part in old.map_or(&[][..], |o| &o.unrecorded[..]) {
                if !new.unrecorded.contains(part) {
                    drifts.push(Drift {
                        kind: DriftKind::Unchecked,
                        line: format!(
                            "{} recorded ({LOCK_FILE} held no reading of them)",
                            part.describe()
                        ),
                    });
                }
            }
            // The same access keeps its time, so the file stays the same.
            if let Some(old) = old.filter(|o| drifts.is_empty() && !o.recorded_at.is_empty()) {
                new.recorded_at = old.recorded_at.clone();
            }
            lock.orgs.insert(org.name.clone(), new);
            drifts
        });
        let diagnosis = result.as_ref().err().and_then(|f| unreadable_hint(org, f));
        out.push(Updated {
            org: org.name.clone(),
            was_recorded,
            result,
            diagnosis,
            kept,
        });
    }
    if out.iter().any(|u| u.result.is_ok()) {
        write_lock(lock_path, &lock)?;
    }
    Ok(out)
}

/// A recording keeps what it could not read: each part of `new` that is
/// [`OrgSnapshot::unread`] takes smoke.lock's (`old`) instead of an empty
/// "unknown"; a list part smoke.lock never held is marked
/// [`OrgSnapshot::unrecorded`]. One line per part, saying which and why.
/// `new.unread` is emptied (all of it is accounted for).
fn keep_unread(old: Option<&OrgSnapshot>, new: &mut OrgSnapshot) -> Vec<String> {
    let mut lines = Vec::new();
    for (part, why) in std::mem::take(&mut new.unread) {
        let what = part.describe();
        let had = old.filter(|o| !o.unrecorded.contains(&part));
        let kept = match (part, had) {
            (Part::ConnectedApps, Some(o)) => {
                new.preauthorized_apps = o.preauthorized_apps.clone();
                true
            }
            (Part::ExternalClientApps, Some(o)) => {
                for (api, was) in &o.external_client_apps {
                    match new.external_client_apps.get_mut(api) {
                        Some(now) => {
                            now.preauthorized_via = was.preauthorized_via.clone();
                            if now.id.is_empty() {
                                now.id = was.id.clone();
                            }
                            if now.label == *api {
                                now.label = was.label.clone();
                            }
                        }
                        None if !was.preauthorized_via.is_empty() => {
                            new.external_client_apps.insert(api.clone(), was.clone());
                        }
                        None => {}
                    }
                }
                true
            }
            (Part::EcaPolicies | Part::EcaScopes, Some(o)) => {
                let scopes_only = part == Part::EcaScopes;
                let mut any = false;
                for (api, was) in &o.external_client_apps {
                    any |= if scopes_only {
                        was.scopes.is_some()
                    } else {
                        was.has_policies()
                    };
                    match new.external_client_apps.get_mut(api) {
                        Some(now) => keep_policies(was, now, scopes_only),
                        // Recorded as running client credentials as the
                        // user: only the unread policies could say it stopped.
                        None if !scopes_only && was.preauthorized_via.is_empty() => {
                            new.external_client_apps.insert(api.clone(), was.clone());
                        }
                        None => {}
                    }
                }
                if !any {
                    continue;
                }
                true
            }
            (Part::ConnectedApps | Part::ExternalClientApps, None) => {
                new.unrecorded.push(part);
                false
            }
            // Unread policies are absent already: nothing to mark.
            (Part::EcaPolicies | Part::EcaScopes, None) => continue,
        };
        lines.push(if kept {
            format!("{what} kept as {LOCK_FILE} had them (not read now: {why})")
        } else {
            format!("{what} not recorded (not read now: {why})")
        });
    }
    new.unrecorded.sort();
    new.unrecorded.dedup();
    lines
}

/// An External Client App whose name could not be retrieved now is keyed
/// by its id (and labelled with it): it keeps the name and label smoke.lock
/// recorded for that id instead of being recorded as a new app.
fn keep_names(old: Option<&OrgSnapshot>, new: &mut OrgSnapshot) {
    let Some(old) = old else { return };
    let unnamed: Vec<String> = new
        .external_client_apps
        .iter()
        .filter(|(key, n)| **key == n.id)
        .map(|(key, _)| key.clone())
        .collect();
    for key in unnamed {
        let Some((api, was)) = old
            .external_client_apps
            .iter()
            .find(|(_, o)| !o.id.is_empty() && crate::audit::eca::same_id(&o.id, &key))
        else {
            continue;
        };
        if new.external_client_apps.contains_key(api) {
            continue;
        }
        if let Some(mut app) = new.external_client_apps.remove(&key) {
            app.label = was.label.clone();
            app.id = was.id.clone();
            new.external_client_apps.insert(api.clone(), app);
        }
    }
}

/// The policy fields `now` lacks for want of a reading, from `was`: the
/// OAuth policies (Permitted Users, client credentials and its run-as user,
/// one record) when none of them was read, the plugin switch, the scopes.
fn keep_policies(was: &EcaSnapshot, now: &mut EcaSnapshot, scopes_only: bool) {
    if now.scopes.is_none() {
        now.scopes = was.scopes.clone();
    }
    if scopes_only {
        return;
    }
    if now.permitted_users.is_none() && now.client_credentials.is_none() && now.run_as.is_none() {
        now.permitted_users = was.permitted_users.clone();
        now.client_credentials = was.client_credentials;
        now.run_as = was.run_as.clone();
    }
    if now.oauth_plugin.is_none() {
        now.oauth_plugin = was.oauth_plugin;
    }
}

mod eca;

#[cfg(test)]
mod tests;
