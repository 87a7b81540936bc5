//! One org's integration-user access, summarised from [`Facts`]: the
//! entry smoke.lock records per org, and the known-good baseline the
//! diagnosis compares with. Plain data (no network), shared by
//! [`crate::diagnose`] and [`crate::snapshot`], which do not import each
//! other.

use super::eca::{self, EcaFacts};
use super::facts::{Facts, Gap, UserFacts};
use crate::salesforce::error::{cannot_read_setup, Failure, Origin};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One org's integration user, as the snapshot saw it. Lists are sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrgSnapshot {
    pub username: String,
    pub active: bool,
    /// The user license's name, e.g. `Salesforce Integration`.
    pub license: String,
    pub profile: String,
    /// `Organization.OrganizationType`, e.g. `Enterprise Edition`.
    pub edition: String,
    /// `Organization.TrialExpirationDate` (a date), for trial orgs only.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub trial_expires: String,
    /// Where API Enabled comes from: `profile 'P'`, `permission set 'S'`,
    /// `permission set group 'G'`.
    pub api_enabled_by: Vec<String>,
    /// Permission sets assigned directly and in force (labels).
    pub permission_sets: Vec<String>,
    /// Permission set groups assigned and in force (labels).
    pub permission_set_groups: Vec<String>,
    /// Admin-approved Connected Apps the user is pre-authorized for.
    pub preauthorized_apps: Vec<String>,
    /// Parts this entry holds no reading of: they could not be read when it
    /// was first recorded (their lists are empty for want of a reading, not
    /// because nothing is there), so a drift check does not compare them.
    /// The next recording that can read them fills them in.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unrecorded: Vec<Part>,
    pub oldest_api_version: String,
    pub newest_api_version: String,
    /// Configured object -> `read` or `none`.
    pub objects: BTreeMap<String, String>,
    /// Configured object -> what granted Read on it (`profile 'P'`,
    /// `permission set 'S'`, `permission set group 'G'`), so a later
    /// diagnosis can say which grant went away. Absent in files written
    /// before format 2 (then nothing is claimed about grantors).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub objects_read_by: BTreeMap<String, Vec<String>>,
    /// `Object.Field` -> what granted Read on it, for the fields the
    /// configured checks select that are under field-level security (a
    /// field outside it has no grant and is not listed).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields_read_by: BTreeMap<String, Vec<String>>,
    /// The fields this reading looked at (not written: a comparison needs
    /// it to tell a lost grant from a field no check selects any more).
    #[serde(skip)]
    pub fields_checked: Vec<String>,
    /// When this entry's access was recorded (UTC, RFC 3339). Kept as it
    /// was while the access stays the same, so an unchanged org gives the
    /// same bytes; empty in files written before format 2.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub recorded_at: String,
    /// External Client Apps serving the user (pre-authorized through one
    /// of its sets, or running client credentials as it), by API name.
    /// Absent from older files and from orgs without any.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub external_client_apps: BTreeMap<String, EcaSnapshot>,
    /// Parts this reading could not see, with why (not written): a drift
    /// check leaves them unchecked and says so, a recording keeps what
    /// smoke.lock had for them. An empty list here is "none", never
    /// "unknown".
    #[serde(skip)]
    pub unread: BTreeMap<Part, String>,
}

/// A part of an org's access that a reading can miss while the rest
/// stands (one refused or failed query, or an API version that predates
/// it): unknown, so neither compared nor recorded as empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// `preauthorized_apps` (ConnectedApplication, SetupEntityAccess).
    ConnectedApps,
    /// Which External Client Apps the user's sets pre-authorize
    /// (SetupEntityAccess, API 60.0+).
    ExternalClientApps,
    /// External Client App policies (Metadata API): never marked
    /// [`OrgSnapshot::unrecorded`], an unread policy is absent already.
    EcaPolicies,
    /// External Client App OAuth scopes (Metadata API, consumer-secrets
    /// access); like the policies, absent when unread.
    EcaScopes,
}

impl Part {
    /// What the part is, for a one-line "not checked" note.
    pub fn describe(self) -> &'static str {
        match self {
            Part::ConnectedApps => "Connected App pre-authorizations",
            Part::ExternalClientApps => "External Client App pre-authorizations",
            Part::EcaPolicies => "External Client App policies",
            Part::EcaScopes => "External Client App scopes",
        }
    }
}

/// Why a part went unread, from its gap: what could not be read, the
/// code and message, and the permission it takes when the answer was a
/// refusal for lack of one. sfsmoke's own reasons (a read not sent at an
/// old API version) stand as they are.
fn unread_because(read: &str, gap: &Gap, needs: &str) -> String {
    let f = &gap.failure;
    let message = f.message.trim_end_matches('.');
    if f.origin == Origin::Sfsmoke {
        return message.to_string();
    }
    let needs = if cannot_read_setup(&f.code) {
        format!("; needs {needs}")
    } else {
        String::new()
    };
    format!("{read} could not be read ({}: {message}{needs})", f.code)
}

/// The parts of `facts` that could not be read, with why.
fn unread_parts(facts: &Facts) -> BTreeMap<Part, String> {
    let gap = |object: &str| facts.gaps.iter().find(|g| g.object == object);
    const VIEW_SETUP: &str = "View Setup and Configuration";
    let mut out = BTreeMap::new();
    if let Some(g) = gap("ConnectedApplication") {
        out.insert(
            Part::ConnectedApps,
            unread_because("ConnectedApplication", g, VIEW_SETUP),
        );
    } else if let Some(g) = gap("SetupEntityAccess") {
        out.insert(
            Part::ConnectedApps,
            unread_because("SetupEntityAccess", g, VIEW_SETUP),
        );
    }
    if facts.eca.rows_unread {
        let why = gap(eca::OBJECT).map_or_else(
            || "SetupEntityAccess was not read".to_string(),
            |g| unread_because("SetupEntityAccess", g, VIEW_SETUP),
        );
        out.insert(Part::ExternalClientApps, why);
    }
    if let Some(g) = gap(eca::POLICIES) {
        let needs = "Modify Metadata Through Metadata API Functions or Modify All Data";
        out.insert(
            Part::EcaPolicies,
            unread_because("the Metadata API", g, needs),
        );
    }
    if let Some(g) = gap(eca::SCOPES) {
        let needs = "the org setting \"Allow Access to OAuth Consumer Secrets via Metadata \
                     API\" and \"View External Client Apps Consumer Secrets in Metadata\"";
        out.insert(
            Part::EcaScopes,
            unread_because(eca::OAUTH_SETTINGS, g, needs),
        );
    }
    out
}

/// One External Client App in smoke.lock: its pre-authorizations (View
/// Setup) and, when the Metadata API could be read, its policies (`None`:
/// not read, never compared).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EcaSnapshot {
    /// The app's id (`0xR...`): a later drift check takes the name from
    /// here instead of retrieving it. Empty in entries written before.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub label: String,
    /// The user's sets that pre-authorize it, as `permission set 'S'`.
    pub preauthorized_via: Vec<String>,
    /// `admin_approved` or `self_authorized`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permitted_users: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_plugin: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_credentials: Option<bool>,
    /// The client credentials flow's run-as username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_as: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

impl EcaSnapshot {
    /// Whether the policies were read when this entry was recorded (then a
    /// drift check reads them again to compare).
    pub fn has_policies(&self) -> bool {
        self.permitted_users.is_some()
            || self.oauth_plugin.is_some()
            || self.client_credentials.is_some()
            || self.run_as.is_some()
            || self.scopes.is_some()
    }

    /// The entry for `app`, or `None` when it does not serve `user`.
    pub fn of(app: &EcaFacts, user: &UserFacts) -> Option<EcaSnapshot> {
        let p = app.policies.as_ref();
        let runs_as_user = p
            .and_then(|p| p.run_as.as_deref())
            .is_some_and(|r| crate::audit::eca::names_user(r, user));
        if app.preauthorized_via.is_empty() && !runs_as_user {
            return None;
        }
        let mut scopes = p.and_then(|p| p.scopes.clone());
        if let Some(s) = scopes.as_mut() {
            s.sort();
            s.dedup();
        }
        Some(EcaSnapshot {
            id: app.id.clone().unwrap_or_default(),
            label: app.label.clone(),
            preauthorized_via: app.preauthorized_via.clone(),
            permitted_users: p.and_then(|p| p.admin_approved).map(|a| {
                if a {
                    "admin_approved"
                } else {
                    "self_authorized"
                }
                .to_string()
            }),
            oauth_plugin: p.and_then(|p| match (p.plugins_enabled, p.oauth_plugin_enabled) {
                (None, None) => None,
                _ => Some(!p.plugin_off()),
            }),
            client_credentials: p.and_then(|p| p.client_credentials),
            run_as: p.and_then(|p| p.run_as.clone()),
            scopes,
        })
    }
}

impl OrgSnapshot {
    /// Sort and dedup every list, so equal access gives an equal file.
    pub fn normalize(&mut self) {
        for v in [
            &mut self.api_enabled_by,
            &mut self.permission_sets,
            &mut self.permission_set_groups,
            &mut self.preauthorized_apps,
        ] {
            v.sort();
            v.dedup();
        }
        for e in self.external_client_apps.values_mut() {
            e.preauthorized_via.sort();
            e.preauthorized_via.dedup();
        }
        for v in self
            .objects_read_by
            .values_mut()
            .chain(self.fields_read_by.values_mut())
        {
            v.sort();
            v.dedup();
        }
    }

    /// Whether this reading looked at `field` (the checks still select
    /// it): a field no check names any more is not "lost".
    pub fn fields_read_by_known(&self, field: &str) -> bool {
        self.fields_checked.iter().any(|f| f == field) || self.fields_read_by.contains_key(field)
    }

    /// [`OrgSnapshot::recorded_at`] as a time, when there is one.
    pub fn recorded(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::parse_from_rfc3339(&self.recorded_at)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc))
    }

    /// The snapshot of what `facts` show. `Err` when the facts are too thin
    /// to be a baseline (the user was not found, or setup objects could not
    /// be read). A part that could not be read while the rest could (the
    /// apps' pre-authorizations, the External Client Apps' policies) is
    /// listed in [`OrgSnapshot::unread`]: its empty list means "unknown".
    pub fn from_facts(facts: &Facts) -> Result<OrgSnapshot, Failure> {
        // Without the object or field permissions, "nothing grants Read"
        // would be recorded (or reported as drift) for what was not seen.
        let needed = [
            "User",
            "Profile",
            "PermissionSetAssignment",
            "PermissionSet",
            "Organization",
            "ObjectPermissions",
            "FieldPermissions",
        ];
        if let Some(gap) = facts
            .gaps
            .iter()
            .find(|g| needed.contains(&g.object.as_str()))
        {
            // The caller says whose access and what to do: the hint differs
            // with and without an auditor, and with the failure's code.
            let mut f = gap.failure.clone();
            f.message = format!("{} could not be read: {}", gap.object, f.message);
            return Err(f);
        }
        let Some(user) = &facts.user else {
            return Err(Failure::new(
                Origin::Sfsmoke,
                crate::codes::ACCESS_DRIFT,
                format!(
                    "cannot take the access snapshot: no {} in the org",
                    facts.target.describe()
                ),
            ));
        };
        let in_force = facts.in_force();
        let mut permission_sets = Vec::new();
        let mut permission_set_groups = Vec::new();
        for a in in_force {
            match &a.group {
                Some(g) => permission_set_groups.push(g.clone()),
                None => permission_sets.push(a.permission_set.clone()),
            }
        }
        let (oldest, newest) = facts
            .version_range()
            .map(|(o, n)| (o.to_string(), n.to_string()))
            .unwrap_or_default();
        let mut snap = OrgSnapshot {
            username: user.username.clone(),
            active: user.active,
            license: facts
                .license
                .as_ref()
                .map(|l| l.name.clone())
                .unwrap_or_default(),
            profile: facts
                .profile
                .as_ref()
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            edition: facts
                .org
                .as_ref()
                .map(|o| o.edition.clone())
                .unwrap_or_default(),
            trial_expires: facts
                .org
                .as_ref()
                .and_then(|o| o.trial_expires)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            api_enabled_by: facts.api_sources(),
            permission_sets,
            permission_set_groups,
            preauthorized_apps: facts
                .apps
                .iter()
                .filter(|a| a.admin_approved_only && !a.preauthorized_via.is_empty())
                .map(|a| a.name.clone())
                .collect(),
            oldest_api_version: oldest,
            newest_api_version: newest,
            objects: facts
                .object_read
                .iter()
                .map(|(o, by)| {
                    let v = if by.is_empty() { "none" } else { "read" };
                    (o.clone(), v.to_string())
                })
                .collect(),
            objects_read_by: facts
                .object_read
                .iter()
                .filter(|(_, by)| !by.is_empty())
                .map(|(o, by)| (o.clone(), by.clone()))
                .collect(),
            fields_read_by: facts
                .field_read
                .iter()
                .filter(|(_, by)| !by.is_empty())
                .map(|(f, by)| (f.clone(), by.clone()))
                .collect(),
            fields_checked: facts.field_read.keys().cloned().collect(),
            recorded_at: facts.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            external_client_apps: facts
                .eca
                .apps
                .iter()
                .filter_map(|a| Some((a.api_name.clone(), EcaSnapshot::of(a, user)?)))
                .collect(),
            unrecorded: Vec::new(),
            unread: unread_parts(facts),
        };
        snap.normalize();
        Ok(snap)
    }
}
