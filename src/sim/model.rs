//! The state of a simulated org, and the one place that decides who may use
//! the API ([`Org::api_access`], [`Org::app_access`]).
//!
//! Everything the server answers is derived from this state: there is no
//! "scenario switch". An org can be written as TOML (`sfsmoke sim
//! --org-file`); references between entities are by name (profile name,
//! permission set API name, username), and Salesforce ids are derived from
//! those names so they stay stable when the state changes.
//!
//! The rules, as documented by Salesforce (DOMAIN.md "Who may use the API"):
//! API access needs an edition with the API (Enterprise, Unlimited,
//! Performance, Developer; Professional only with the API add-on; never
//! Essentials), an org whose trial has not expired, an active user, a user
//! license with API access (the license comes from the user's profile), and
//! "API Enabled" from the profile or from an active, unexpired permission
//! set assignment (direct or through a permission set group). Through a
//! Connected App or an External Client App the user must also be permitted
//! by the app's policy ([`OAuthClient`] is the one view of either kind).
//!
//! A minimal org file (the whole format is this module's serde types; see
//! [`EXAMPLE_ORG_TOML`], which a test keeps valid):
//!
//! ```toml
#![doc = include_str!("example_org.toml")]
//! ```

use chrono::{DateTime, Utc};

/// A small, complete org file: one Developer Edition org, an integration
/// user whose API Enabled comes from a permission set, and a Connected App.
pub const EXAMPLE_ORG_TOML: &str = include_str!("example_org.toml");
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// `Debug` for a type holding secrets (passwords, tokens, consumer
/// secrets): `shown` fields as derived, `masked` ones as `"***"`, so an
/// org dumped with `{:?}` (a log line, a test's failure message) carries
/// none. The pattern names every field: a new one does not compile until it
/// is put in one list or the other.
macro_rules! debug_masking {
    ($t:ident { $($shown:ident),* $(,)? } masked { $($masked:ident),* $(,)? }) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let $t { $($shown,)* $($masked: _,)* } = self;
                f.debug_struct(stringify!($t))
                    $(.field(stringify!($shown), $shown))*
                    $(.field(stringify!($masked), &"***"))*
                    .finish()
            }
        }
    };
}

/// Salesforce edition, as `Organization.OrganizationType` names it (minus
/// " Edition").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Edition {
    Enterprise,
    Unlimited,
    Performance,
    Developer,
    Professional,
    Essentials,
}

impl Edition {
    /// Whether the edition includes the API without an add-on.
    pub fn includes_api(self) -> bool {
        matches!(
            self,
            Edition::Enterprise | Edition::Unlimited | Edition::Performance | Edition::Developer
        )
    }

    /// `Organization.OrganizationType`.
    pub fn organization_type(self) -> &'static str {
        match self {
            Edition::Enterprise => "Enterprise Edition",
            Edition::Unlimited => "Unlimited Edition",
            Edition::Performance => "Performance Edition",
            Edition::Developer => "Developer Edition",
            Edition::Professional => "Professional Edition",
            Edition::Essentials => "Essentials Edition",
        }
    }
}

/// The whole org.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Org {
    /// Company name (`Organization.Name`).
    pub name: String,
    /// 18-character org id (`00D...`).
    #[serde(default = "default_org_id")]
    pub id: String,
    pub edition: Edition,
    /// The API add-on purchased (gives Professional the API; Essentials
    /// has none even with it, DOMAIN.md).
    #[serde(default)]
    pub api_add_on: bool,
    /// A sandbox (JWT `aud` is then `https://test.salesforce.com`).
    #[serde(default)]
    pub sandbox: bool,
    /// When a trial org's trial ends (`Organization.TrialExpirationDate`).
    /// After it, the org has no API access.
    #[serde(default)]
    pub trial_expiration: Option<DateTime<Utc>>,
    /// Oldest API version the org still serves (major number: 31 = v31.0).
    /// Older versions are retired: REST 410, SOAP UNSUPPORTED_API_VERSION.
    #[serde(default = "default_oldest")]
    pub oldest_api_version: u16,
    /// Newest API version (newer ones do not exist yet: REST 404).
    #[serde(default = "default_newest")]
    pub newest_api_version: u16,
    /// First API version without SOAP `login()` (v65.0, per Salesforce's
    /// retirement notice).
    #[serde(default = "default_soap_login_removed")]
    pub soap_login_removed_in: u16,
    /// Daily (rolling 24 h) API request allocation.
    #[serde(default = "default_daily_limit")]
    pub daily_api_limit: u64,
    /// API requests counted so far in the window.
    #[serde(default)]
    pub api_requests_used: u64,
    /// Setup > External Client App Settings > "Allow Access to OAuth
    /// Consumer Secrets via Metadata API": without it no one may read
    /// `ExtlClntAppOauthSettings` through the Metadata API
    /// (api_meta: meta_extlclntappoauthsettings).
    #[serde(default)]
    pub eca_secrets_via_metadata: bool,
    /// `POST /composite` is served (from v38.0). `false` answers it 404
    /// NOT_FOUND at every version, as a gateway in front of the org that
    /// does not know the resource would (the `composite-refused` scenario).
    #[serde(default = "yes")]
    pub composite: bool,
    /// Session timeout (inactivity), seconds. 0: a session expires as soon
    /// as it is issued.
    #[serde(default = "default_session_timeout")]
    pub session_timeout_secs: u64,
    /// Setup > Network Access: logins from these ranges need no security
    /// token.
    #[serde(default)]
    pub trusted_ip_ranges: Vec<IpRange>,
    #[serde(default)]
    pub licenses: Vec<UserLicense>,
    #[serde(default)]
    pub profiles: Vec<Profile>,
    #[serde(default)]
    pub permission_sets: Vec<PermissionSet>,
    #[serde(default)]
    pub permission_set_groups: Vec<PermissionSetGroup>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub connected_apps: Vec<ConnectedApp>,
    /// External Client Apps (the Connected App's successor, Spring '26).
    #[serde(default)]
    pub external_client_apps: Vec<ExternalClientApp>,
    /// Business objects and their records (setup objects are derived).
    #[serde(default)]
    pub objects: Vec<SObjectDef>,
    /// `SetupAuditTrail`, oldest first (see `audit_trail.rs`).
    #[serde(default)]
    pub audit_trail: Vec<AuditEntry>,
    /// Public groups, for sharing rules.
    #[serde(default)]
    pub groups: Vec<PublicGroup>,
}

/// One `SetupAuditTrail` entry.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    pub action: String,
    pub section: String,
    pub display: String,
    pub created_date: DateTime<Utc>,
    /// The admin's username (`CreatedById` / `CreatedBy.Name`).
    pub created_by: String,
    /// The admin who logged in as `created_by` (`DelegateUser`).
    #[serde(default)]
    pub delegate_user: Option<String>,
}

fn default_org_id() -> String {
    crate::sim::demo::ORG_ID.to_string()
}
fn default_oldest() -> u16 {
    31
}
fn default_newest() -> u16 {
    66
}
fn default_soap_login_removed() -> u16 {
    65
}
fn default_daily_limit() -> u64 {
    15_000
}
fn default_session_timeout() -> u64 {
    7200
}
fn yes() -> bool {
    true
}

/// An inclusive IPv4/IPv6 range (`start = "10.0.0.0"`, `end = "10.255.255.255"`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IpRange {
    pub start: IpAddr,
    pub end: IpAddr,
}

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.start, self.end, ip) {
            (IpAddr::V4(s), IpAddr::V4(e), IpAddr::V4(i)) => s <= i && i <= e,
            (IpAddr::V6(s), IpAddr::V6(e), IpAddr::V6(i)) => s <= i && i <= e,
            _ => false,
        }
    }
}

/// A user license (`UserLicense`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserLicense {
    /// `Name` / `MasterLabel`, e.g. "Salesforce", "Chatter Free".
    pub name: String,
    /// `LicenseDefinitionKey`, e.g. "SFDC", "PID_Chatter".
    pub key: String,
    /// Whether users with this license may use the API.
    pub api_access: bool,
    #[serde(default = "default_license_total")]
    pub total: u32,
}

fn default_license_total() -> u32 {
    10
}

/// System permissions we model (shared by profiles and permission sets).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SystemPermissions {
    /// "API Enabled" (`PermissionsApiEnabled`).
    pub api_enabled: bool,
    /// "View Setup and Configuration" (`PermissionsViewSetup`).
    pub view_setup: bool,
    /// "View All Data" (`PermissionsViewAllData`).
    pub view_all_data: bool,
    /// "Modify All Data" (`PermissionsModifyAllData`).
    pub modify_all_data: bool,
    /// "Manage Users" (`PermissionsManageUsers`).
    pub manage_users: bool,
    /// "Modify Metadata Through Metadata API Functions"
    /// (`PermissionsModifyMetadata`): with Modify All Data, what the
    /// Metadata API's `listMetadata`/`readMetadata` need.
    pub modify_metadata: bool,
    /// "View External Client Apps Consumer Secrets in Metadata": with the
    /// org's [`Org::eca_secrets_via_metadata`], what reading
    /// `ExtlClntAppOauthSettings` takes beyond Modify Metadata.
    pub view_eca_secrets_in_metadata: bool,
}

impl SystemPermissions {
    pub(crate) fn merge(&mut self, o: &SystemPermissions) {
        self.api_enabled |= o.api_enabled;
        self.view_setup |= o.view_setup;
        self.view_all_data |= o.view_all_data;
        self.modify_all_data |= o.modify_all_data;
        self.manage_users |= o.manage_users;
        self.modify_metadata |= o.modify_metadata;
        self.view_eca_secrets_in_metadata |= o.view_eca_secrets_in_metadata;
    }
}

/// Object permissions (`ObjectPermissions`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ObjectAccess {
    pub read: bool,
    pub create: bool,
    pub edit: bool,
    pub delete: bool,
    pub view_all: bool,
    pub modify_all: bool,
}

impl ObjectAccess {
    /// Adds every permission `o` grants (access is the union of grants).
    pub(crate) fn merge(&mut self, o: &ObjectAccess) {
        self.read |= o.read;
        self.create |= o.create;
        self.edit |= o.edit;
        self.delete |= o.delete;
        self.view_all |= o.view_all;
        self.modify_all |= o.modify_all;
    }
}

/// Field permissions (`FieldPermissions`) of one field under field-level
/// security.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct FieldAccess {
    pub read: bool,
    pub edit: bool,
}

impl FieldAccess {
    /// Adds every permission `o` grants (access is the union of grants).
    pub(crate) fn merge(&mut self, o: &FieldAccess) {
        self.read |= o.read;
        self.edit |= o.edit;
    }
}

/// A profile. Its license is the user's license.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    /// The user license's name.
    pub license: String,
    #[serde(default)]
    pub permissions: SystemPermissions,
    /// Object API name -> access.
    #[serde(default)]
    pub objects: IndexMap<String, ObjectAccess>,
    /// `Object.Field` -> access, for fields under field-level security.
    #[serde(default)]
    pub fields: IndexMap<String, FieldAccess>,
}

/// A permission set.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSet {
    /// API name (`Name`), e.g. "Salesforce_API_Integration".
    pub name: String,
    /// `Label`.
    pub label: String,
    /// The user license it is tied to (`LicenseId`), if any.
    #[serde(default)]
    pub license: Option<String>,
    #[serde(default)]
    pub permissions: SystemPermissions,
    #[serde(default)]
    pub objects: IndexMap<String, ObjectAccess>,
    /// `Object.Field` -> access, for fields under field-level security.
    #[serde(default)]
    pub fields: IndexMap<String, FieldAccess>,
}

/// A permission set group: its permissions are the union of its sets.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetGroup {
    /// `DeveloperName`.
    pub name: String,
    /// `MasterLabel`.
    pub label: String,
    /// API names of the member permission sets.
    #[serde(default)]
    pub permission_sets: Vec<String>,
}

/// A permission set (or group) assigned to a user.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// A permission set's API name (exclusive with `group`).
    #[serde(default)]
    pub permission_set: Option<String>,
    /// A permission set group's developer name.
    #[serde(default)]
    pub group: Option<String>,
    /// `PermissionSetAssignment.IsActive`.
    #[serde(default = "yes")]
    pub active: bool,
    /// `PermissionSetAssignment.ExpirationDate`.
    #[serde(default)]
    pub expires: Option<DateTime<Utc>>,
}

impl Assignment {
    pub fn permission_set(name: &str) -> Self {
        Assignment {
            permission_set: Some(name.to_string()),
            group: None,
            active: true,
            expires: None,
        }
    }

    pub fn group(name: &str) -> Self {
        Assignment {
            permission_set: None,
            group: Some(name.to_string()),
            active: true,
            expires: None,
        }
    }

    /// Active and not expired at `now`.
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.active && self.expires.is_none_or(|e| e > now)
    }
}

/// A user.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub username: String,
    #[serde(default)]
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default = "yes")]
    pub active: bool,
    pub password: String,
    pub security_token: String,
    /// The profile's name (the license comes from the profile).
    pub profile: String,
    #[serde(default)]
    pub assignments: Vec<Assignment>,
}

debug_masking!(User {
    username, first_name, last_name, email, active, profile, assignments
} masked { password, security_token });

impl User {
    pub fn full_name(&self) -> String {
        if self.first_name.is_empty() {
            self.last_name.clone()
        } else {
            format!("{} {}", self.first_name, self.last_name)
        }
    }
}

/// A Connected App's "Permitted Users" policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermittedUsers {
    /// "All users may self-authorize".
    AllUsersSelfAuthorize,
    /// "Admin approved users are pre-authorized".
    AdminApproved,
}

/// A refresh token issued to a user for a Connected App.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshGrant {
    pub token: String,
    pub username: String,
}

debug_masking!(RefreshGrant { username } masked { token });

/// A Connected App.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectedApp {
    pub name: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    /// The certificate (or public key) PEM registered for JWT bearer.
    #[serde(default)]
    pub certificate: Option<String>,
    pub permitted_users: PermittedUsers,
    /// Profiles pre-authorized (names), for `admin_approved`.
    #[serde(default)]
    pub profiles: Vec<String>,
    /// Permission sets pre-authorized (API names), for `admin_approved`.
    #[serde(default)]
    pub permission_sets: Vec<String>,
    /// Client credentials flow: the "Run As" user (username).
    #[serde(default)]
    pub run_as: Option<String>,
    /// Users who approved the app themselves (self-authorize policy; JWT
    /// needs a prior approval).
    #[serde(default)]
    pub approved_by: Vec<String>,
    #[serde(default)]
    pub refresh_tokens: Vec<RefreshGrant>,
    /// OAuth scopes granted (`scope` in token answers).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
}

debug_masking!(ConnectedApp {
    name, consumer_key, certificate, permitted_users, profiles, permission_sets, run_as,
    approved_by, refresh_tokens, scopes
} masked { consumer_secret });

fn default_scopes() -> Vec<String> {
    vec!["api".into(), "refresh_token".into()]
}

/// An External Client App's "Permitted Users" OAuth policy
/// (`ExtlClntAppOauthConfigurablePolicies.permittedUsersPolicyType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EcaPermittedUsers {
    /// `AdminApprovedPreAuthorized`: only users holding a pre-authorized
    /// permission set.
    AdminApprovedPreAuthorized,
    /// `AllSelfAuthorized`: any user who approved the app.
    AllSelfAuthorized,
}

impl EcaPermittedUsers {
    /// The Metadata API's value.
    pub fn wire(self) -> &'static str {
        match self {
            EcaPermittedUsers::AdminApprovedPreAuthorized => "AdminApprovedPreAuthorized",
            EcaPermittedUsers::AllSelfAuthorized => "AllSelfAuthorized",
        }
    }
}

/// An External Client App: the app header (`ExternalClientApplication`),
/// its OAuth settings (`ExtlClntAppOauthSettings`, scopes), its plugin
/// switches (`ExtlClntAppConfigurablePolicies`) and its admin OAuth
/// policies (`ExtlClntAppOauthConfigurablePolicies`). Unlike a Connected
/// App, it pre-authorizes by permission set only.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalClientApp {
    /// API name (`DeveloperName`, the Metadata API fullName), e.g.
    /// `Warehouse_Sync`.
    pub name: String,
    /// `MasterLabel`, e.g. "Warehouse Sync".
    pub label: String,
    /// 18-character id. The sim's key prefix is `0xI` ([`eca_id`]; the
    /// sim's choice, not taken from Salesforce).
    pub id: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    /// The certificate (or public key) PEM registered for JWT bearer.
    #[serde(default)]
    pub certificate: Option<String>,
    /// `ExtlClntAppConfigurablePolicies.isOauthPluginEnabled`: off, the
    /// token endpoint does not know the consumer at all.
    #[serde(default = "yes")]
    pub oauth_plugin_enabled: bool,
    pub permitted_users: EcaPermittedUsers,
    /// Permission sets pre-authorized (API names), for
    /// `admin_approved_pre_authorized`.
    #[serde(default)]
    pub permission_sets: Vec<String>,
    /// `isClientCredentialsFlowEnabled`.
    #[serde(default)]
    pub client_credentials_enabled: bool,
    /// `clientCredentialsFlowUser`: the run-as user's username.
    #[serde(default)]
    pub client_credentials_user: Option<String>,
    /// OAuth scopes granted (`scope` in token answers).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Users who approved the app themselves (`all_self_authorized`; JWT
    /// needs a prior approval).
    #[serde(default)]
    pub approved_by: Vec<String>,
    #[serde(default)]
    pub refresh_tokens: Vec<RefreshGrant>,
}

debug_masking!(ExternalClientApp {
    name, label, id, consumer_key, certificate, oauth_plugin_enabled, permitted_users,
    permission_sets, client_credentials_enabled, client_credentials_user, scopes,
    approved_by, refresh_tokens
} masked { consumer_secret });

impl ExternalClientApp {
    /// fullName of its `ExtlClntAppOauthConfigurablePolicies`: the name
    /// Salesforce gives it when the app is created and `sf project retrieve`
    /// writes (`extlClntAppOauthPolicies/<App>_oauthPlcy.ecaOauthPlcy`).
    pub fn oauth_policies_name(&self) -> String {
        format!("{}_oauthPlcy", self.name)
    }

    /// fullName of its `ExtlClntAppConfigurablePolicies`
    /// (`extlClntAppPolicies/<App>_plcy.ecaPlcy`).
    pub fn policies_name(&self) -> String {
        format!("{}_plcy", self.name)
    }

    /// fullName of its `ExtlClntAppOauthSettings`
    /// (`extlClntAppOauthSettings/<App>_oauth.ecaOauth`).
    pub fn oauth_settings_name(&self) -> String {
        format!("{}_oauth", self.name)
    }

    /// Its scopes as `commaSeparatedOauthScopes` spells them (`Api`,
    /// `RefreshToken`, `OpenID`, `Full`, `Web`; others as stored).
    pub fn metadata_scopes(&self) -> String {
        self.scopes
            .iter()
            .map(|s| match s.as_str() {
                "api" => "Api".to_string(),
                "refresh_token" => "RefreshToken".to_string(),
                "openid" => "OpenID".to_string(),
                "full" => "Full".to_string(),
                "web" => "Web".to_string(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Which kind of app an [`OAuthClient`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppKind {
    ConnectedApp,
    ExternalClientApp,
}

/// What the token endpoint checks of an app, whichever kind it is: one
/// view of a [`ConnectedApp`] or an [`ExternalClientApp`], so every check
/// ([`Org::app_access`], the flows in `oauth.rs`) exists once.
#[derive(Clone)]
pub struct OAuthClient {
    pub kind: AppKind,
    /// The app's name (Connected App name; ECA API name).
    pub name: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub certificate: Option<String>,
    /// Admin-approved (pre-authorized users only) rather than self-authorize.
    pub admin_approved: bool,
    /// Pre-authorized profiles (Connected Apps only).
    pub profiles: Vec<String>,
    /// Pre-authorized permission sets (API names).
    pub permission_sets: Vec<String>,
    /// The client credentials flow's run-as user, when the flow is on.
    pub run_as: Option<String>,
    /// Whether Permitted Users applies to the run-as user. Salesforce Help
    /// says it does not for an ECA; the sim's Connected Apps keep checking
    /// it, as they always did.
    pub run_as_permitted_users: bool,
    pub approved_by: Vec<String>,
    pub refresh_tokens: Vec<RefreshGrant>,
    pub scopes: Vec<String>,
}

debug_masking!(OAuthClient {
    kind, name, consumer_key, certificate, admin_approved, profiles, permission_sets,
    run_as, run_as_permitted_users, approved_by, refresh_tokens, scopes
} masked { consumer_secret });

impl From<&ConnectedApp> for OAuthClient {
    fn from(a: &ConnectedApp) -> Self {
        OAuthClient {
            kind: AppKind::ConnectedApp,
            name: a.name.clone(),
            consumer_key: a.consumer_key.clone(),
            consumer_secret: a.consumer_secret.clone(),
            certificate: a.certificate.clone(),
            admin_approved: a.permitted_users == PermittedUsers::AdminApproved,
            profiles: a.profiles.clone(),
            permission_sets: a.permission_sets.clone(),
            run_as: a.run_as.clone(),
            run_as_permitted_users: true,
            approved_by: a.approved_by.clone(),
            refresh_tokens: a.refresh_tokens.clone(),
            scopes: a.scopes.clone(),
        }
    }
}

impl From<&ExternalClientApp> for OAuthClient {
    fn from(a: &ExternalClientApp) -> Self {
        OAuthClient {
            kind: AppKind::ExternalClientApp,
            name: a.name.clone(),
            consumer_key: a.consumer_key.clone(),
            consumer_secret: a.consumer_secret.clone(),
            certificate: a.certificate.clone(),
            admin_approved: a.permitted_users == EcaPermittedUsers::AdminApprovedPreAuthorized,
            profiles: Vec::new(),
            permission_sets: a.permission_sets.clone(),
            run_as: a
                .client_credentials_user
                .clone()
                .filter(|_| a.client_credentials_enabled),
            run_as_permitted_users: false,
            approved_by: a.approved_by.clone(),
            refresh_tokens: a.refresh_tokens.clone(),
            scopes: a.scopes.clone(),
        }
    }
}

impl OAuthClient {
    /// Whether its tokens may call the REST (and SOAP) API: the `api` or
    /// `full` scope.
    pub fn api_scope(&self) -> bool {
        self.scopes.iter().any(|s| s == "api" || s == "full")
    }
}

/// A field of a business object.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub name: String,
    /// Describe type: id, string, currency, double, date, datetime,
    /// boolean, picklist, reference, ...
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub label: Option<String>,
    /// For references: the target object.
    #[serde(default)]
    pub reference_to: Option<String>,
    /// For references: the relationship name (`Account` for `AccountId`).
    #[serde(default)]
    pub relationship_name: Option<String>,
    /// Under field-level security: readable only through a `fields` grant
    /// of the profile or a permission set in force (View All Data too).
    /// Salesforce exempts the Id, required and system fields; a field left
    /// `false` here is one of those, readable with its object.
    #[serde(default)]
    pub permissionable: bool,
}

/// A business object with its records.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SObjectDef {
    pub name: String,
    pub label: String,
    #[serde(default)]
    pub label_plural: Option<String>,
    /// Three-character key prefix (`001` for Account).
    pub key_prefix: String,
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    #[serde(default)]
    pub records: Vec<IndexMap<String, serde_json::Value>>,
    /// Org-wide default for internal users: which records a user who
    /// neither owns them nor has View All sees.
    #[serde(default)]
    pub sharing_model: SharingModel,
    /// Owner-based sharing rules granting Read (they matter when
    /// `sharing_model` is Private).
    #[serde(default)]
    pub sharing_rules: Vec<SharingRule>,
}

/// An object's org-wide default (`EntityDefinition.InternalSharingModel`).
/// Kept small: no role hierarchy, no manual shares, no criteria rules.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum SharingModel {
    /// Records are visible to their owner and through sharing rules.
    Private,
    /// Public Read Only.
    Read,
    /// Public Read/Write: every record (the default).
    #[default]
    ReadWrite,
}

impl SharingModel {
    /// The value of `InternalSharingModel` / `ExternalSharingModel`.
    pub fn wire(self) -> &'static str {
        match self {
            SharingModel::Private => "Private",
            SharingModel::Read => "Read",
            SharingModel::ReadWrite => "ReadWrite",
        }
    }

    /// As Setup > Sharing Settings shows it.
    pub fn label(self) -> &'static str {
        match self {
            SharingModel::Private => "Private",
            SharingModel::Read => "Public Read Only",
            SharingModel::ReadWrite => "Public Read/Write",
        }
    }
}

/// "All Internal Users" as a sharing rule's group.
pub const ALL_INTERNAL_USERS: &str = "AllInternalUsers";

/// An owner-based sharing rule granting Read: the records owned by members
/// of `owned_by` are shared with the members of `shared_with` (each a
/// public group's name, or [`ALL_INTERNAL_USERS`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SharingRule {
    /// API name (`Opportunity.<name>` in the Metadata API).
    pub name: String,
    pub label: String,
    pub owned_by: String,
    pub shared_with: String,
}

/// A public group (`Group` of type Regular).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PublicGroup {
    /// `DeveloperName`.
    pub name: String,
    pub label: String,
    /// Usernames of its members.
    #[serde(default)]
    pub members: Vec<String>,
}

impl SObjectDef {
    pub fn custom(&self) -> bool {
        self.name.ends_with("__c")
    }
}

/// Why a user may not use the API. Each variant names the cause; the wire
/// code and message depend on where it is reported (SOAP login, REST).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denial {
    /// The edition has no API (Essentials; Professional without the add-on).
    EditionWithoutApi { edition: Edition },
    /// The trial ended.
    TrialExpired,
    /// The user is deactivated.
    InactiveUser,
    /// The user's license (from its profile) has no API access.
    LicenseWithoutApi { license: String },
    /// Neither the profile nor an active assignment grants API Enabled.
    ApiNotEnabled { profile: String },
}

impl Denial {
    /// True when the whole org has no API (rather than this user).
    pub fn org_wide(&self) -> bool {
        matches!(
            self,
            Denial::EditionWithoutApi { .. } | Denial::TrialExpired
        )
    }

    /// `(exceptionCode, exceptionMessage)` of the SOAP `login()` fault.
    /// An org without API: API_DISABLED_FOR_ORG; a user without it:
    /// API_CURRENTLY_DISABLED (DOMAIN.md; restforce issue 562).
    pub fn soap_fault(&self) -> (&'static str, &'static str) {
        if self.org_wide() {
            (
                "API_DISABLED_FOR_ORG",
                "API is not enabled for this Organization or Partner",
            )
        } else {
            ("API_CURRENTLY_DISABLED", "API is disabled for this User")
        }
    }

    /// `(status, errorCode, message)` of a REST answer: Salesforce answers
    /// every cause with the same 403 API_DISABLED_FOR_ORG.
    pub fn rest_error(&self) -> (u16, &'static str, &'static str) {
        (
            403,
            "API_DISABLED_FOR_ORG",
            "The REST API is not enabled for this Organization.",
        )
    }
}

/// Why a Connected App refuses a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppDenial {
    /// Admin-approved policy and neither the profile nor an assigned
    /// permission set is pre-authorized.
    NotPreAuthorized,
    /// Self-authorize policy and the user never approved the app (JWT
    /// bearer needs a prior approval).
    NotApproved,
}

impl AppDenial {
    /// `(error, error_description)` at the token endpoint (HTTP 400).
    pub fn oauth_error(&self) -> (&'static str, &'static str) {
        match self {
            AppDenial::NotPreAuthorized => (
                "invalid_app_access",
                "user is not admin approved to access this app",
            ),
            AppDenial::NotApproved => ("invalid_grant", "user hasn't approved this consumer"),
        }
    }
}

/// What a user can effectively do: profile plus every assignment in force.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effective {
    pub permissions: SystemPermissions,
    pub objects: IndexMap<String, ObjectAccess>,
    /// Where API Enabled comes from: "profile 'X'", "permission set 'Y'",
    /// "permission set group 'Z'".
    pub api_enabled_from: Vec<String>,
    /// API names of permission sets in force (direct and through groups).
    pub permission_sets: Vec<String>,
    /// `Object.Field` -> access (field-level security).
    pub fields: IndexMap<String, FieldAccess>,
}

impl Effective {
    fn merge_fields(&mut self, fields: &IndexMap<String, FieldAccess>) {
        for (f, a) in fields {
            self.fields.entry(f.clone()).or_default().merge(a);
        }
    }

    /// Read access to a business object: View All Data / Modify All Data,
    /// or Read / View All on the object.
    pub fn can_read(&self, object: &str) -> bool {
        if self.permissions.view_all_data || self.permissions.modify_all_data {
            return true;
        }
        self.objects
            .iter()
            .any(|(o, a)| o.eq_ignore_ascii_case(object) && (a.read || a.view_all))
    }

    /// Read access to `field` of a readable `object`: a field outside
    /// field-level security always; otherwise a Read grant on
    /// `Object.Field` (View All Data does not bypass field-level security
    /// on the platform either, but an admin profile grants every field).
    pub fn can_read_field(&self, object: &str, field: &FieldDef) -> bool {
        if !field.permissionable {
            return true;
        }
        let key = format!("{object}.{}", field.name);
        self.fields
            .iter()
            .any(|(k, a)| k.eq_ignore_ascii_case(&key) && a.read)
    }
}

impl Org {
    /// Is `username` a member of `group` (a public group's name, or
    /// [`ALL_INTERNAL_USERS`])?
    fn in_group(&self, group: &str, username: &str) -> bool {
        group == ALL_INTERNAL_USERS
            || self.groups.iter().any(|g| {
                g.name == group && g.members.iter().any(|m| m.eq_ignore_ascii_case(username))
            })
    }

    /// The label of a sharing rule's group, as Setup shows it.
    pub fn group_label(&self, group: &str) -> String {
        match self.groups.iter().find(|g| g.name == group) {
            Some(g) => g.label.clone(),
            None if group == ALL_INTERNAL_USERS => "All Internal Users".into(),
            None => group.to_string(),
        }
    }

    /// Does `user` (with `eff`, its effective access) see `record` of
    /// `object`? View All Data, Modify All Data, or View All / Modify All
    /// on the object see every record; otherwise a public org-wide default,
    /// owning the record, or a sharing rule whose owners include the
    /// record's owner and whose grantees include the user. A query leaves
    /// out what this refuses (no error), as Salesforce does.
    pub fn can_see(
        &self,
        user: &User,
        eff: &Effective,
        object: &SObjectDef,
        record: &IndexMap<String, serde_json::Value>,
    ) -> bool {
        let all = eff
            .objects
            .iter()
            .any(|(o, a)| o.eq_ignore_ascii_case(&object.name) && (a.view_all || a.modify_all));
        let p = &eff.permissions;
        if p.view_all_data || p.modify_all_data || all {
            return true;
        }
        if object.sharing_model != SharingModel::Private {
            return true;
        }
        let owner = record.get("OwnerId").and_then(|v| v.as_str());
        let Some(owner) = owner.and_then(|id| self.user_by_id(id)) else {
            return false;
        };
        owner.username.eq_ignore_ascii_case(&user.username)
            || object.sharing_rules.iter().any(|r| {
                self.in_group(&r.owned_by, &owner.username)
                    && self.in_group(&r.shared_with, &user.username)
            })
    }

    pub fn user(&self, username: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(username))
    }

    pub fn user_mut(&mut self, username: &str) -> Option<&mut User> {
        self.users
            .iter_mut()
            .find(|u| u.username.eq_ignore_ascii_case(username))
    }

    pub fn user_by_id(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| user_id(&u.username) == id)
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    pub fn profile_mut(&mut self, name: &str) -> Option<&mut Profile> {
        self.profiles.iter_mut().find(|p| p.name == name)
    }

    pub fn permission_set(&self, name: &str) -> Option<&PermissionSet> {
        self.permission_sets.iter().find(|p| p.name == name)
    }

    pub fn permission_set_mut(&mut self, name: &str) -> Option<&mut PermissionSet> {
        self.permission_sets.iter_mut().find(|p| p.name == name)
    }

    pub fn group(&self, name: &str) -> Option<&PermissionSetGroup> {
        self.permission_set_groups.iter().find(|g| g.name == name)
    }

    pub fn license(&self, name: &str) -> Option<&UserLicense> {
        self.licenses.iter().find(|l| l.name == name)
    }

    pub fn app_by_key(&self, consumer_key: &str) -> Option<&ConnectedApp> {
        self.connected_apps
            .iter()
            .find(|a| a.consumer_key == consumer_key)
    }

    /// The app the token endpoint knows by this `client_id`: a Connected
    /// App, or an External Client App whose OAuth plugin is on (switched
    /// off, its consumer is unknown).
    pub fn oauth_client(&self, consumer_key: &str) -> Option<OAuthClient> {
        if let Some(a) = self.app_by_key(consumer_key) {
            return Some(a.into());
        }
        self.external_client_apps
            .iter()
            .find(|a| a.oauth_plugin_enabled && a.consumer_key == consumer_key)
            .map(OAuthClient::from)
    }

    pub fn eca(&self, name: &str) -> Option<&ExternalClientApp> {
        self.external_client_apps.iter().find(|a| a.name == name)
    }

    pub fn eca_mut(&mut self, name: &str) -> Option<&mut ExternalClientApp> {
        self.external_client_apps
            .iter_mut()
            .find(|a| a.name == name)
    }

    pub fn app_mut(&mut self, name: &str) -> Option<&mut ConnectedApp> {
        self.connected_apps.iter_mut().find(|a| a.name == name)
    }

    pub fn object(&self, name: &str) -> Option<&SObjectDef> {
        self.objects
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(name))
    }

    pub fn object_mut(&mut self, name: &str) -> Option<&mut SObjectDef> {
        self.objects
            .iter_mut()
            .find(|o| o.name.eq_ignore_ascii_case(name))
    }

    /// The user's license, through its profile.
    pub fn user_license(&self, user: &User) -> Option<&UserLicense> {
        self.profile(&user.profile)
            .and_then(|p| self.license(&p.license))
    }

    /// Whether the org as a whole has the API.
    pub fn org_api(&self, now: DateTime<Utc>) -> Result<(), Denial> {
        let add_on = self.api_add_on && self.edition == Edition::Professional;
        if !self.edition.includes_api() && !add_on {
            return Err(Denial::EditionWithoutApi {
                edition: self.edition,
            });
        }
        if self.trial_expiration.is_some_and(|t| t <= now) {
            return Err(Denial::TrialExpired);
        }
        Ok(())
    }

    /// Profile plus every permission set in force (directly or through a
    /// group).
    pub fn effective(&self, user: &User, now: DateTime<Utc>) -> Effective {
        let mut eff = Effective::default();
        if let Some(p) = self.profile(&user.profile) {
            eff.permissions.merge(&p.permissions);
            if p.permissions.api_enabled {
                eff.api_enabled_from.push(format!("profile '{}'", p.name));
            }
            for (o, a) in &p.objects {
                eff.objects.entry(o.clone()).or_default().merge(a);
            }
            eff.merge_fields(&p.fields);
        }
        for a in user.assignments.iter().filter(|a| a.in_force(now)) {
            let (sets, via): (Vec<&str>, Option<&str>) = match (&a.permission_set, &a.group) {
                (Some(ps), _) => (vec![ps.as_str()], None),
                (None, Some(g)) => match self.group(g) {
                    Some(g) => (
                        g.permission_sets.iter().map(String::as_str).collect(),
                        Some(g.label.as_str()),
                    ),
                    None => (vec![], None),
                },
                (None, None) => (vec![], None),
            };
            for name in sets {
                let Some(ps) = self.permission_set(name) else {
                    continue;
                };
                eff.permissions.merge(&ps.permissions);
                if ps.permissions.api_enabled {
                    eff.api_enabled_from.push(match via {
                        Some(g) => format!("permission set group '{g}'"),
                        None => format!("permission set '{}'", ps.label),
                    });
                }
                for (o, acc) in &ps.objects {
                    eff.objects.entry(o.clone()).or_default().merge(acc);
                }
                eff.merge_fields(&ps.fields);
                if !eff.permission_sets.iter().any(|n| n == &ps.name) {
                    eff.permission_sets.push(ps.name.clone());
                }
            }
        }
        eff.api_enabled_from.dedup();
        eff
    }

    /// The single API access decision: org, user, license, permission.
    pub fn api_access(&self, user: &User, now: DateTime<Utc>) -> Result<(), Denial> {
        self.org_api(now)?;
        if !user.active {
            return Err(Denial::InactiveUser);
        }
        let license = self.user_license(user);
        if !license.is_some_and(|l| l.api_access) {
            return Err(Denial::LicenseWithoutApi {
                license: license.map(|l| l.name.clone()).unwrap_or_default(),
            });
        }
        if !self.effective(user, now).permissions.api_enabled {
            return Err(Denial::ApiNotEnabled {
                profile: user.profile.clone(),
            });
        }
        Ok(())
    }

    /// Whether an app's Permitted Users policy lets this user in. `jwt`
    /// marks the JWT bearer flow, which under the self-authorize policy
    /// needs a prior approval by the user. Admin-approved: the profile
    /// (Connected Apps) or a permission set in force, directly or through a
    /// group, must be pre-authorized.
    pub fn app_access(
        &self,
        app: &OAuthClient,
        user: &User,
        now: DateTime<Utc>,
        jwt: bool,
    ) -> Result<(), AppDenial> {
        if !app.admin_approved {
            if jwt
                && !app
                    .approved_by
                    .iter()
                    .any(|u| u.eq_ignore_ascii_case(&user.username))
            {
                return Err(AppDenial::NotApproved);
            }
            return Ok(());
        }
        if app.profiles.iter().any(|p| p == &user.profile) {
            return Ok(());
        }
        let eff = self.effective(user, now);
        if eff
            .permission_sets
            .iter()
            .any(|ps| app.permission_sets.contains(ps))
        {
            return Ok(());
        }
        Err(AppDenial::NotPreAuthorized)
    }

    /// Whether the user may read an object (business objects only).
    pub fn can_read(&self, user: &User, object: &str, now: DateTime<Utc>) -> bool {
        self.effective(user, now).can_read(object)
    }

    /// Check a login's password: `password + security token` always
    /// works; the bare password only from a trusted IP range.
    pub fn check_password(&self, user: &User, given: &str, ip: IpAddr) -> Result<(), LoginRefusal> {
        let full = format!("{}{}", user.password, user.security_token);
        if given == full {
            Ok(())
        } else if given == user.password {
            if self.trusted_ip(ip) {
                Ok(())
            } else {
                Err(LoginRefusal::TokenRequired)
            }
        } else {
            Err(LoginRefusal::BadCredentials)
        }
    }

    /// Whether the login may skip the security token.
    pub fn trusted_ip(&self, ip: IpAddr) -> bool {
        self.trusted_ip_ranges.iter().any(|r| r.contains(ip))
    }

    /// Whether `version` (major) is retired, current, or unknown.
    pub fn version_status(&self, major: u16) -> VersionStatus {
        if major < 7 || major > self.newest_api_version {
            VersionStatus::Unknown
        } else if major < self.oldest_api_version {
            VersionStatus::Retired
        } else {
            VersionStatus::Supported
        }
    }

    /// Check the references between entities (profile -> license, user ->
    /// profile, assignments -> sets/groups, app -> users). Used for
    /// `--org-file`.
    pub fn validate(&self) -> Result<(), String> {
        let mut errs = Vec::new();
        for p in &self.profiles {
            if self.license(&p.license).is_none() {
                errs.push(format!(
                    "profile '{}' names an unknown license '{}'",
                    p.name, p.license
                ));
            }
        }
        for u in &self.users {
            if self.profile(&u.profile).is_none() {
                errs.push(format!(
                    "user '{}' names an unknown profile '{}'",
                    u.username, u.profile
                ));
            }
            for a in &u.assignments {
                match (&a.permission_set, &a.group) {
                    (Some(ps), None) if self.permission_set(ps).is_none() => errs.push(format!(
                        "user '{}' is assigned an unknown permission set '{ps}'",
                        u.username
                    )),
                    (None, Some(g)) if self.group(g).is_none() => errs.push(format!(
                        "user '{}' is assigned an unknown permission set group '{g}'",
                        u.username
                    )),
                    (Some(_), Some(_)) | (None, None) => errs.push(format!(
                        "user '{}': each assignment names exactly one of permission_set or group",
                        u.username
                    )),
                    _ => {}
                }
            }
        }
        for g in &self.permission_set_groups {
            for ps in &g.permission_sets {
                if self.permission_set(ps).is_none() {
                    errs.push(format!(
                        "permission set group '{}' names an unknown permission set '{ps}'",
                        g.name
                    ));
                }
            }
        }
        for a in &self.connected_apps {
            if let Some(r) = &a.run_as {
                if self.user(r).is_none() {
                    errs.push(format!(
                        "connected app '{}' runs as an unknown user '{r}'",
                        a.name
                    ));
                }
            }
        }
        for a in &self.external_client_apps {
            let what = format!("external client app '{}'", a.name);
            if a.id.len() != 18 || !a.id.starts_with(ECA_KEY_PREFIX) {
                errs.push(format!(
                    "{what}: id '{}' is not an 18-character id starting with {ECA_KEY_PREFIX}",
                    a.id
                ));
            }
            if let Some(r) = &a.client_credentials_user {
                if self.user(r).is_none() {
                    errs.push(format!(
                        "{what}: client credentials user '{r}' is not a user of the org"
                    ));
                }
            }
            for ps in &a.permission_sets {
                if self.permission_set(ps).is_none() {
                    errs.push(format!(
                        "{what} pre-authorizes an unknown permission set '{ps}'"
                    ));
                }
            }
            let key_taken = self
                .connected_apps
                .iter()
                .map(|c| (&c.consumer_key, c.name.as_str()))
                .chain(
                    self.external_client_apps
                        .iter()
                        .filter(|o| o.name != a.name)
                        .map(|o| (&o.consumer_key, o.name.as_str())),
                )
                .find(|(k, _)| **k == a.consumer_key);
            if let Some((_, other)) = key_taken {
                errs.push(format!("{what}: consumer key also used by '{other}'"));
            }
        }
        if self.oldest_api_version > self.newest_api_version {
            errs.push("oldest_api_version is above newest_api_version".into());
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n"))
        }
    }
}

/// Why a username/password login is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginRefusal {
    /// Unknown user or wrong password.
    BadCredentials,
    /// The right password, without the security token, from outside the
    /// trusted IP ranges.
    TokenRequired,
}

/// Where an API version stands in this org.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionStatus {
    Supported,
    Retired,
    Unknown,
}

/// Parse `"62.0"` / `"v62.0"` / `"62"` into its major number.
pub fn parse_version(s: &str) -> Option<u16> {
    let s = s.strip_prefix('v').unwrap_or(s);
    let (major, minor) = s.split_once('.').unwrap_or((s, "0"));
    if minor != "0" {
        return None;
    }
    major.parse().ok()
}

// ---------------------------------------------------------------------------
// Salesforce ids, derived from names so they survive state changes.

const ID_CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// An 18-character Salesforce id: the 3-character key prefix, 12 characters
/// derived from `seed`, and the case-safe checksum suffix.
pub fn sf_id(prefix: &str, seed: &str) -> String {
    // FNV-1a, twice with different offsets, for 12 base-62 characters.
    let mut h1: u64 = 0xcbf29ce484222325;
    let mut h2: u64 = 0x84222325cbf29ce4;
    for b in seed.as_bytes() {
        h1 = (h1 ^ u64::from(*b)).wrapping_mul(0x100000001b3);
        h2 = (h2 ^ u64::from(*b))
            .wrapping_mul(0x100000001b3)
            .rotate_left(7);
    }
    let mut id = String::with_capacity(18);
    id.push_str(&prefix[..3.min(prefix.len())]);
    // A pod-like "5g0000" look is nice but costs entropy; keep "5g0" then 9.
    id.push_str("5g0");
    let mut x = h1 ^ h2.rotate_left(31);
    for _ in 0..9 {
        id.push(ID_CHARS[(x % 62) as usize] as char);
        x /= 62;
        if x == 0 {
            x = h2;
        }
    }
    with_checksum(&id)
}

/// Append the 3-character case-safe suffix to a 15-character id.
pub fn with_checksum(id15: &str) -> String {
    const MAP: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    let bytes = id15.as_bytes();
    let mut out = id15.to_string();
    for chunk in 0..3 {
        let mut n = 0usize;
        for i in 0..5 {
            if bytes.get(chunk * 5 + i).is_some_and(u8::is_ascii_uppercase) {
                n |= 1 << i;
            }
        }
        out.push(MAP[n] as char);
    }
    out
}

pub fn user_id(username: &str) -> String {
    sf_id("005", &username.to_ascii_lowercase())
}
pub fn profile_id(name: &str) -> String {
    sf_id("00e", name)
}
/// A profile's own permission set (`IsOwnedByProfile = true`).
pub fn profile_permset_id(name: &str) -> String {
    sf_id("0PS", &format!("profile:{name}"))
}
pub fn permset_id(name: &str) -> String {
    sf_id("0PS", name)
}
pub fn group_id(name: &str) -> String {
    sf_id("0PG", name)
}
/// A group's aggregate permission set.
pub fn group_permset_id(name: &str) -> String {
    sf_id("0PS", &format!("group:{name}"))
}
pub fn license_id(name: &str) -> String {
    sf_id("100", name)
}
pub fn app_id(name: &str) -> String {
    sf_id("0H4", name)
}
/// Key prefix of the sim's `ExternalClientApplication` ids (the sim's
/// choice).
pub const ECA_KEY_PREFIX: &str = "0xI";
/// An External Client App's id, derived from its API name.
pub fn eca_id(name: &str) -> String {
    sf_id(ECA_KEY_PREFIX, name)
}
pub fn assignment_id(username: &str, target: &str) -> String {
    sf_id(
        "0Pa",
        &format!("{}:{target}", username.to_ascii_lowercase()),
    )
}
pub fn setup_access_id(app: &str, parent: &str) -> String {
    sf_id("0J0", &format!("{app}:{parent}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_salesforce_algorithm() {
        // Known pair from Salesforce's docs/community: 001A0000006Vm9r -> 001A0000006Vm9rIAC
        assert_eq!(with_checksum("001A0000006Vm9r"), "001A0000006Vm9rIAC");
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(user_id("A@b.c"), user_id("a@b.c"));
        assert_ne!(permset_id("x"), permset_id("y"));
        assert_eq!(permset_id("x").len(), 18);
        assert!(permset_id("x").starts_with("0PS"));
    }

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("v62.0"), Some(62));
        assert_eq!(parse_version("62.0"), Some(62));
        assert_eq!(parse_version("62.5"), None);
        assert_eq!(parse_version("x"), None);
    }

    #[test]
    fn the_documented_example_org_is_valid() {
        let org: Org = toml::from_str(EXAMPLE_ORG_TOML).expect("example parses");
        org.validate().expect("example is consistent");
        let now = Utc::now();
        let u = org.user("ci@example.com").unwrap();
        assert_eq!(org.api_access(u, now), Ok(()));
        assert_eq!(
            org.effective(u, now).api_enabled_from,
            vec!["permission set 'CI API Access'".to_string()]
        );
    }

    #[test]
    fn debug_output_masks_every_secret_the_org_holds() {
        use crate::sim::demo;
        let org = crate::sim::scenarios::build("healthy").expect("healthy");
        let eca = org.eca(demo::ECA_CC_NAME).expect("eca");
        let app = &org.connected_apps[0];
        assert!(!app.refresh_tokens.is_empty());
        let secrets = [
            demo::PASSWORD,
            demo::SECURITY_TOKEN,
            demo::AUDITOR_PASSWORD,
            demo::AUDITOR_SECURITY_TOKEN,
            demo::CLIENT_SECRET,
            demo::REFRESH_TOKEN,
            demo::ECA_JWT_CLIENT_SECRET,
            demo::ECA_CC_CLIENT_SECRET,
        ];
        let shown = [
            format!("{org:?}"),
            format!("{org:#?}"),
            format!("{:?}", OAuthClient::from(eca)),
            format!("{:#?}", OAuthClient::from(app)),
        ];
        for text in &shown {
            for secret in secrets {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
        }
        // What is not secret is still there to debug with.
        let client = format!("{:?}", OAuthClient::from(eca));
        assert!(client.contains(demo::ECA_CC_CLIENT_ID), "{client}");
        assert!(client.contains(r#"consumer_secret: "***""#), "{client}");
        assert!(shown[0].contains(demo::USERNAME) && shown[0].contains(r#"password: "***""#));
    }

    #[test]
    fn ip_ranges() {
        let r = IpRange {
            start: "10.0.0.0".parse().unwrap(),
            end: "10.0.0.255".parse().unwrap(),
        };
        assert!(r.contains("10.0.0.7".parse().unwrap()));
        assert!(!r.contains("10.0.1.7".parse().unwrap()));
        assert!(!r.contains("::1".parse().unwrap()));
    }
}
