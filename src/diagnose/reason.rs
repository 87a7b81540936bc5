//! Reasoning: from [`Facts`] (and the last known-good snapshot, when there is
//! one) to the one cause that explains the failure. Pure: no I/O, no clock.

use super::{Cause, Diagnosis};
use crate::audit::access::OrgSnapshot;
use crate::audit::facts::{version_key, Facts, Gap, GRANTORS};
use crate::salesforce::error::Failure;

/// What the failure looks like, to rank causes that hold at the same time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// API_DISABLED_FOR_ORG, API_CURRENTLY_DISABLED.
    Access,
    /// INVALID_LOGIN, invalid_grant, ...
    Credentials,
    /// invalid_app_access, "user hasn't approved this consumer".
    App,
    /// UNSUPPORTED_API_VERSION, HTTP 410.
    Version,
    /// INVALID_SESSION_ID "not valid for use with the REST API": the app's
    /// scopes lack `api`.
    Scope,
    /// INVALID_TYPE / INSUFFICIENT_ACCESS on an object.
    Object,
    /// INVALID_FIELD "No such column": a field the query names is not
    /// there for this user (not defined, or hidden by field-level security).
    Field,
    /// TOO_FEW_ROWS: the query ran but returned fewer rows than
    /// `min_rows` (sharing, or no data).
    Rows,
    /// Anything else (or no failure: a drift check).
    Other,
}

impl Family {
    pub fn of(f: &Failure) -> Family {
        let code = f.code.as_str();
        let msg = f.message.to_ascii_lowercase();
        match code {
            "API_DISABLED_FOR_ORG" | "API_CURRENTLY_DISABLED" | "FUNCTIONALITY_NOT_ENABLED" => {
                Family::Access
            }
            "invalid_app_access" => Family::App,
            "invalid_grant" if msg.contains("approve") => Family::App,
            _ if super::eca::scope_refusal(f) => Family::Scope,
            "UNSUPPORTED_API_VERSION" => Family::Version,
            _ if f.http_status == Some(410) => Family::Version,
            "INVALID_LOGIN"
            | "LOGIN_MUST_USE_SECURITY_TOKEN"
            | "INVALID_OPERATION_WITH_EXPIRED_PASSWORD"
            | "PASSWORD_LOCKOUT"
            | "USER_INACTIVE"
            | "invalid_grant"
            | "inactive_user"
            | "invalid_client_id"
            | "invalid_client" => Family::Credentials,
            "INVALID_TYPE" | "INSUFFICIENT_ACCESS_OR_READONLY" | "INSUFFICIENT_ACCESS" => {
                Family::Object
            }
            "INVALID_FIELD" if f.message.contains("No such column") => Family::Field,
            crate::codes::TOO_FEW_ROWS => Family::Rows,
            _ => Family::Other,
        }
    }
}

fn edition_without_api(edition: &str) -> bool {
    let e = edition.to_ascii_lowercase();
    [
        "essentials",
        "contact manager",
        "group edition",
        "team edition",
        "personal edition",
        "starter",
    ]
    .iter()
    .any(|x| e.contains(x))
}

fn license_without_api(name: &str, key: Option<&str>) -> bool {
    let n = name.to_ascii_lowercase();
    let k = key.unwrap_or("").to_ascii_lowercase();
    n.contains("chatter free")
        || n.contains("chatter external")
        || n.contains("chatter only")
        || n.contains("identity")
        || k == "pid_chatter"
        || k.contains("identity")
}

pub(super) struct Finding {
    pub(super) cause: Cause,
    pub(super) explanation: String,
    pub(super) fix: String,
    /// The External Client Apps (API names) the finding implicates: their
    /// Setup Audit Trail entries are shown. Empty for other causes.
    pub(super) apps: Vec<String>,
}

/// What a diagnosis needs of the org's auth flow: whether a Connected App
/// (or External Client App) is involved, and whether a password is (only
/// then is "check the password and security token" advice).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    pub uses_connected_app: bool,
    pub password: bool,
}

impl Flow {
    pub fn of(auth: &crate::config::Auth) -> Flow {
        use crate::config::Auth;
        Flow {
            uses_connected_app: crate::audit::facts::uses_connected_app(auth),
            password: matches!(auth, Auth::SoapPassword { .. } | Auth::OAuthPassword { .. }),
        }
    }

    /// A username-password login, through an app (OAuth) or not (SOAP).
    pub fn password(uses_connected_app: bool) -> Flow {
        Flow {
            uses_connected_app,
            password: true,
        }
    }
}

/// Name the cause of `failure` from `facts`; `known_good` is the org's entry
/// in smoke.lock, when there is one ("was granted by X").
pub fn reason(
    facts: &Facts,
    failure: &Failure,
    known_good: Option<&OrgSnapshot>,
    requested_version: &str,
    flow: Flow,
) -> Diagnosis {
    let uses_connected_app = flow.uses_connected_app;
    let family = Family::of(failure);
    let mut evidence = evidence(facts, requested_version);
    // External Client Apps are shown when the app can be the cause: a
    // refusal at the token endpoint or of the app's scopes (below, also
    // when one is named for another failure).
    let eca_evidence = super::eca::evidence(facts, failure, family, known_good);
    let app_refusal = matches!(family, Family::App | Family::Scope | Family::Credentials);
    if app_refusal {
        evidence.extend(eca_evidence.iter().cloned());
    }
    let mut found: Vec<Finding> = Vec::new();
    let now = facts.now;

    // The org: edition and trial.
    if let Some(org) = &facts.org {
        if let Some(t) = org.trial_expires.filter(|t| *t <= now) {
            found.push(Finding {
                apps: Vec::new(),
                cause: Cause::TrialExpired,
                explanation: format!(
                    "the org's trial ({}) expired on {}; an expired trial has no API access",
                    org.edition,
                    t.format("%Y-%m-%d")
                ),
                fix: "convert the trial to a paid edition, or point the integration at an active org \
                      (Setup > Company Settings > Company Information)"
                    .into(),
            });
        } else if edition_without_api(&org.edition) {
            found.push(Finding {
                apps: Vec::new(),
                cause: Cause::EditionWithoutApi,
                explanation: format!("the org is {}, which has no API access", org.edition),
                fix: "buy the API add-on or upgrade to Enterprise, Unlimited or Performance \
                      (Setup > Company Settings > Company Information > Organization Edition)"
                    .into(),
            });
        }
        if let Some(snap) = known_good {
            if !snap.edition.is_empty() && snap.edition != org.edition {
                if let Some(f) = found
                    .iter_mut()
                    .find(|f| matches!(f.cause, Cause::EditionWithoutApi | Cause::TrialExpired))
                {
                    f.explanation
                        .push_str(&format!(" (smoke.lock recorded {})", snap.edition));
                }
            }
        }
    }

    // No user to look at (client credentials, refresh token... whose login
    // failed): the token endpoint's own refusal names the app policy.
    let user_unknown = facts.target.username.is_none() && facts.target.user_id.is_none();
    if user_unknown && family == Family::App && !facts.gap("ConnectedApplication") {
        let blocked: Vec<String> = facts
            .apps
            .iter()
            .filter(|a| a.admin_approved_only)
            .map(|a| format!("'{}'", a.name))
            .collect();
        if let Some(first) = blocked.first() {
            found.push(Finding {
                apps: Vec::new(),
                cause: Cause::ConnectedAppNotPreAuthorized,
                explanation: format!(
                    "Connected App {} allows admin-approved users only, and the token endpoint \
                     refused the user this flow logs in as ({}: {}): neither its profile nor a \
                     permission set of it is pre-authorized",
                    blocked.join(", "),
                    failure.code,
                    failure.message.trim_end_matches('.')
                ),
                fix: format!(
                    "pre-authorize that user (client credentials: the app's Run As user, under \
                     Manage > Edit Policies > Client Credentials Flow): Setup > App Manager > \
                     {first} > Manage > Profiles (add its profile) or Permission Sets (add one \
                     assigned to it); or set Permitted Users to \"All users may self-authorize\""
                ),
            });
        }
    }

    // The user.
    let user_unreadable = facts.gap("User");
    match &facts.user {
        None if facts.target.username.is_none() && facts.target.user_id.is_none() => {}
        None if user_unreadable => {}
        None => found.push(Finding {
            apps: Vec::new(),
            cause: Cause::UserNotFound,
            explanation: format!("no user matches {} in this org", facts.target.describe()),
            fix: "check the username in smoke.toml (sandbox usernames end in the sandbox name, \
                  e.g. .qa) against Setup > Users > Users"
                .into(),
        }),
        Some(u) => {
            if !u.active {
                found.push(Finding {
                    apps: Vec::new(),
                    cause: Cause::UserInactive,
                    explanation: format!("user '{}' is deactivated (IsActive = false)", u.username),
                    fix: format!(
                        "reactivate it: Setup > Users > Users > '{}' > Edit > Active; \
                         or point the integration at an active user",
                        u.username
                    ),
                });
            }
            if let Some(l) = &facts.license {
                if license_without_api(&l.name, l.key.as_deref()) {
                    let mut explanation = format!(
                        "user '{}' has the '{}' license, which has no API access whatever the profile says",
                        u.username, l.name
                    );
                    if let Some(snap) =
                        known_good.filter(|s| !s.license.is_empty() && s.license != l.name)
                    {
                        explanation.push_str(&format!(
                            " (smoke.lock recorded '{}': the license was changed)",
                            snap.license
                        ));
                    }
                    found.push(Finding {
                        apps: Vec::new(),
                        cause: Cause::LicenseWithoutApi,
                        explanation,
                        fix:
                            "give the user a license with API access: 'Salesforce', or 'Salesforce \
                              Integration' with profile 'Minimum Access - API Only Integrations' \
                              (Setup > Users > Users > Edit > User License)"
                                .into(),
                    });
                }
            }
            if let Some(f) = api_enabled_finding(facts, known_good, &u.username) {
                found.push(f);
            }
            if uses_connected_app || family == Family::App {
                if let Some(f) = app_finding(facts, family, &u.username) {
                    found.push(f);
                }
            }
        }
    }

    // External Client Apps: by policy, whoever the user is.
    if uses_connected_app || matches!(family, Family::App | Family::Scope) {
        found.extend(super::eca::finding(facts, failure, family, known_good));
    }

    // The object a query was refused for.
    if family == Family::Object && !grants_unread(facts, "ObjectPermissions") {
        if let Some(obj) = refused_object(failure, facts) {
            let username = facts
                .user
                .as_ref()
                .map(|u| u.username.as_str())
                .unwrap_or("?");
            if facts.object_exists.get(&obj) == Some(&false) {
                found.push(Finding {
                    apps: Vec::new(),
                    cause: Cause::ObjectNotFound,
                    explanation: format!(
                        "no object with the API name '{obj}' exists in this org (EntityDefinition, \
                         read as the auditor): a typo, an object not deployed to this org, or a \
                         package not installed here"
                    ),
                    fix: format!(
                        "check '{obj}' in smoke.toml's objects against Setup > Object Manager (the \
                         API Name column: custom objects end in __c, packaged ones carry the \
                         namespace prefix), or deploy the object / install the package in this org"
                    ),
                });
            } else if facts.object_read.get(&obj).is_some_and(|by| by.is_empty()) {
                let exists = if facts.object_exists.get(&obj) == Some(&true) {
                    format!("{obj} exists in this org, but ")
                } else {
                    String::new()
                };
                let mut explanation = format!(
                    "{exists}neither the profile nor any permission set in force gives '{username}' Read on {obj}"
                );
                let on = super::grants::On::Object(&obj);
                let (said, lost_fix) = super::grants::told(facts, known_good, on, username);
                explanation.push_str(&said);
                let fix = match lost_fix {
                    Some(fix) => fix,
                    None => format!(
                        "grant Read on {obj} in the integration's permission set (Setup > Users > Permission \
                         Sets > the set > Object Settings > {obj}){}",
                        super::grants::existing(facts, on, username, None)
                            .map(|e| format!(", or {e}"))
                            .unwrap_or_default()
                    ),
                };
                found.push(Finding {
                    apps: Vec::new(),
                    cause: Cause::ObjectNotReadable,
                    explanation,
                    fix,
                });
            }
        }
    }

    // The field a query was refused for.
    if family == Family::Field && !grants_unread(facts, "FieldPermissions") {
        if let Some(field) = crate::audit::fields::refused(&failure.message) {
            let username = facts
                .user
                .as_ref()
                .map(|u| u.username.as_str())
                .unwrap_or("?");
            if let Some(f) = field_finding(facts, known_good, &field, username) {
                found.push(f);
            }
        }
    }

    // The API version.
    if let Some((oldest, newest)) = facts.version_range() {
        let k = version_key(requested_version);
        if k < version_key(oldest) || k > version_key(newest) {
            found.push(Finding {
                apps: Vec::new(),
                cause: Cause::ApiVersionUnsupported,
                explanation: format!(
                    "API version {requested_version} is outside what the org supports ({oldest} to {newest})"
                ),
                fix: format!("set api_version = \"{newest}\" (or another version from {oldest} to {newest}) in smoke.toml"),
            });
        }
    }

    // Professional Edition: the add-on is not visible through the API, so it
    // is named only when nothing else explains an access refusal.
    if found.is_empty() && family == Family::Access {
        if let Some(org) = facts
            .org
            .as_ref()
            .filter(|o| o.edition.to_ascii_lowercase().contains("professional"))
        {
            found.push(Finding {
                apps: Vec::new(),
                cause: Cause::EditionWithoutApi,
                explanation: format!(
                    "the org is {}, which has API access only with the API add-on, and the user's \
                     own access is in order",
                    org.edition
                ),
                fix: "buy the API add-on for Professional Edition, or upgrade to Enterprise \
                      (Setup > Company Settings > Company Information > Organization Edition)"
                    .into(),
            });
        }
    }

    // Rank: the cause matching the failure's family first, then the order
    // above (org, user, license, API Enabled, app, version).
    let preferred: &[Cause] = match family {
        Family::Version => &[Cause::ApiVersionUnsupported],
        Family::App => &[
            Cause::ConnectedAppNotPreAuthorized,
            Cause::EcaNotPreAuthorized,
        ],
        Family::Credentials => &[
            Cause::UserNotFound,
            Cause::UserInactive,
            Cause::EcaPluginOff,
            Cause::EcaClientCredentials,
        ],
        // Only found when smoke.lock shows the run-as user changed.
        Family::Access => &[Cause::EcaClientCredentials],
        Family::Scope => &[Cause::EcaScopeWithoutApi],
        _ => &[],
    };
    if let Some(pos) = found.iter().position(|f| preferred.contains(&f.cause)) {
        let f = found.remove(pos);
        found.insert(0, f);
    }

    let mut it = found.into_iter();
    match it.next() {
        Some(first) => {
            if !app_refusal && super::eca::CAUSES.contains(&first.cause) {
                evidence.extend(eca_evidence);
            }
            let changes = if super::eca::CAUSES.contains(&first.cause) {
                let names = super::eca::trail_names(facts, known_good, &first.apps);
                super::trail::naming(names, facts)
            } else {
                super::trail::lines(first.cause, facts, known_good)
            };
            let also: Vec<String> = it.map(|f| f.explanation).collect();
            let mut explanation = first.explanation;
            if !also.is_empty() {
                explanation.push_str("; also: ");
                explanation.push_str(&also.join("; "));
            }
            let fix = match run_as_changed(facts, known_good) {
                Some((old, new)) if first.cause != Cause::EcaClientCredentials => {
                    explanation.push_str(&format!(
                        "; the flow now runs as '{new}', smoke.lock recorded '{old}'"
                    ));
                    format!(
                        "set the app's Run As back to '{old}' (Setup > External Client App \
                         Manager > the app > Edit Policies > OAuth Policies > Run As; a Connected \
                         App: Setup > App Manager > the app > Manage > Edit Policies > Client \
                         Credentials Flow > Run As); only to keep '{new}': {}",
                        first.fix
                    )
                }
                _ => first.fix,
            };
            Diagnosis {
                cause: first.cause,
                explanation,
                changes,
                fix,
                evidence,
            }
        }
        None => nothing_found(facts, failure, family, flow, evidence),
    }
}

/// `(recorded, now)` when the flow names no user (client credentials: the
/// app's Run As picks it) and the user it logged in as is not the one
/// smoke.lock recorded: fixing the new user's access would only lead to
/// its next missing grant, setting Run As back restores what worked.
fn run_as_changed(facts: &Facts, known_good: Option<&OrgSnapshot>) -> Option<(String, String)> {
    if facts.target.username.is_some() {
        return None;
    }
    let (old, new) = (&known_good?.username, &facts.user.as_ref()?.username);
    (!old.is_empty() && !old.eq_ignore_ascii_case(new)).then(|| (old.clone(), new.clone()))
}

/// True when the grants to the user could not be read (`permissions`:
/// `ObjectPermissions` or `FieldPermissions`, or the sets acting for it):
/// then "nothing grants Read" would be a guess.
fn grants_unread(facts: &Facts, permissions: &str) -> bool {
    [permissions, "PermissionSetAssignment", "PermissionSet"]
        .iter()
        .any(|o| facts.gap(o))
}

/// Why `field` (`Object.Field`, refused with INVALID_FIELD) is not there
/// for the user: not defined on its object, or hidden by field-level
/// security (with what granted Read per smoke.lock, and what became of it).
fn field_finding(
    facts: &Facts,
    known_good: Option<&OrgSnapshot>,
    field: &str,
    username: &str,
) -> Option<Finding> {
    let (object, name) = field.split_once('.')?;
    let fields_page = format!("Setup > Object Manager > {object} > Fields & Relationships");
    match facts.field_exists.get(field) {
        Some(false) => Some(Finding {
            apps: Vec::new(),
            cause: Cause::FieldNotFound,
            explanation: format!(
                "{object} has no field with the API name '{name}' in this org (FieldDefinition, \
                 read as the auditor): a typo, a field not deployed to this org, or a custom \
                 field named without its __c"
            ),
            fix: format!(
                "check '{name}' in the check's soql in smoke.toml against {fields_page} (the Field \
                 Name column: custom fields end in __c), or deploy the field to this org"
            ),
        }),
        Some(true) if facts.field_read.get(field).is_some_and(Vec::is_empty) => {
            let on = super::grants::On::Field(field);
            let mut explanation = format!(
                "{field} exists, but field-level security hides it: neither the profile nor any \
                 permission set in force gives '{username}' Read on it, and Salesforce answers a \
                 hidden field as one that does not exist (\"No such column\")"
            );
            let (said, lost_fix) = super::grants::told(facts, known_good, on, username);
            explanation.push_str(&said);
            let fix = match lost_fix {
                Some(fix) => fix,
                None => format!(
                    "give the integration's permission set Read on {field} ({fields_page} > {name} \
                     > Set Field-Level Security, or Setup > Users > Permission Sets > the set > \
                     Object Settings > {object} > Edit > Field Permissions > {name}: Read \
                     Access){}",
                    super::grants::existing(facts, on, username, None)
                        .map(|e| format!(", or {e}"))
                        .unwrap_or_default()
                ),
            };
            Some(Finding {
                apps: Vec::new(),
                cause: Cause::FieldNotReadable,
                explanation,
                fix,
            })
        }
        _ => None,
    }
}

/// The object named by `sObject type 'X' is not supported` (INVALID_TYPE),
/// else the only configured object nothing grants Read on.
fn refused_object(failure: &Failure, facts: &Facts) -> Option<String> {
    let msg = &failure.message;
    if let Some(start) = msg.find("sObject type '") {
        let rest = &msg[start + "sObject type '".len()..];
        if let Some(end) = rest.find('\'') {
            return Some(rest[..end].to_string());
        }
    }
    let unreadable: Vec<&String> = facts
        .object_read
        .iter()
        .filter(|(_, by)| by.is_empty())
        .map(|(o, _)| o)
        .collect();
    match unreadable.as_slice() {
        [one] => Some((*one).clone()),
        _ => None,
    }
}

fn api_enabled_finding(
    facts: &Facts,
    known_good: Option<&OrgSnapshot>,
    username: &str,
) -> Option<Finding> {
    if facts.gap("Profile") || facts.gap("PermissionSetAssignment") || facts.gap("PermissionSet") {
        return None;
    }
    if !facts.api_sources().is_empty() {
        return None;
    }
    let profile = facts
        .profile
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_else(|| "(unknown)".into());

    // A grant that lapsed: an assignment still listed but expired/inactive.
    let lapsed: Vec<String> = facts
        .assignments
        .iter()
        .filter(|a| a.grants_api && !a.in_force(facts.now))
        .map(|a| match a.expires.filter(|e| *e <= facts.now) {
            Some(e) => format!(
                "{} (assignment expired on {})",
                a.source(),
                e.format("%Y-%m-%d")
            ),
            None => format!("{} (assignment inactive)", a.source()),
        })
        .collect();
    if !lapsed.is_empty() {
        return Some(Finding {
            apps: Vec::new(),
            cause: Cause::PermissionSetLost,
            explanation: format!(
                "API Enabled was granted by {}; profile '{profile}' has API Enabled off and no \
                 assignment in force grants it",
                lapsed.join(", ")
            ),
            fix: format!(
                "extend or reactivate the assignment for '{username}' (Setup > Users > Users > \
                 '{username}' > Permission Set Assignments), or {}",
                assign_existing(facts, username, None)
            ),
        });
    }

    // Compare with the known-good snapshot: what used to grant it?
    if let Some(snap) = known_good {
        let current: Vec<String> = facts.in_force().map(|a| a.source()).collect();
        let lost: Vec<&String> = snap
            .api_enabled_by
            .iter()
            .filter(|s| !s.starts_with("profile ") && !current.contains(s))
            .collect();
        if !lost.is_empty() {
            let names: Vec<String> = lost.iter().map(|s| s.to_string()).collect();
            let target = names[0].clone();
            // A group is assigned from its own Setup page, not a permission set's.
            let page = match target.strip_prefix("permission set group ") {
                Some(label) => format!("Setup > Users > Permission Set Groups > {label}"),
                None => "Setup > Users > Permission Sets".to_string(),
            };
            return Some(Finding {
                apps: Vec::new(),
                cause: Cause::PermissionSetLost,
                explanation: format!(
                    "API Enabled was granted by {} (smoke.lock), which is no longer assigned to \
                     '{username}'; profile '{profile}' has API Enabled off",
                    names.join(", ")
                ),
                fix: if facts.gap(GRANTORS)
                    || facts.api_grantors.iter().any(|g| g.source() == target)
                {
                    format!(
                        "assign {target} to '{username}' again ({page} > Manage Assignments), or {}",
                        assign_existing(facts, username, Some(&target))
                    )
                } else {
                    // Deleted, or API Enabled taken off it: not a fix any more.
                    format!(
                        "{target} no longer grants API Enabled in this org (deleted or edited): {}",
                        assign_existing(facts, username, None)
                    )
                },
            });
        }
        let profile_had = snap
            .api_enabled_by
            .iter()
            .any(|s| s.starts_with("profile "));
        if profile_had || (!snap.profile.is_empty() && snap.profile != profile) {
            let was = if snap.profile != profile && !snap.profile.is_empty() {
                format!(" (smoke.lock recorded profile '{}')", snap.profile)
            } else {
                " (smoke.lock recorded it on)".to_string()
            };
            return Some(Finding {
                apps: Vec::new(),
                cause: Cause::ApiNotEnabled,
                explanation: format!(
                    "profile '{profile}' has API Enabled off{was} and no assigned permission set grants it"
                ),
                fix: api_fix(facts, &profile, username),
            });
        }
    }

    Some(Finding {
        apps: Vec::new(),
        cause: Cause::ApiNotEnabled,
        explanation: format!(
            "profile '{profile}' has API Enabled off and no assigned permission set grants it"
        ),
        fix: api_fix(facts, &profile, username),
    })
}

fn api_fix(facts: &Facts, profile: &str, username: &str) -> String {
    format!(
        "{}, or tick API Enabled on profile '{profile}' (Setup > Users > Profiles > '{profile}' > \
         System Permissions)",
        assign_existing(facts, username, None)
    )
}

/// "assign permission set 'A' (A_Name) or ... to 'user'": only sets and
/// groups this org has that grant API Enabled and fit the user's license;
/// those tied to another license are named as not assignable. Never a name
/// the org does not have. `except`: the set the fix already names.
fn assign_existing(facts: &Facts, username: &str, except: Option<&str>) -> String {
    if facts.gap(GRANTORS) {
        return format!(
            "assign a permission set with API Enabled to '{username}' (the auditor could not list \
             this org's: see evidence)"
        );
    }
    let fit: Vec<String> = facts
        .api_grantors
        .iter()
        .filter(|g| g.fits() && except != Some(g.source().as_str()))
        .map(|g| g.describe())
        .collect();
    let unfit = unfit_grantors(facts, username)
        .map(|u| format!("; not {u}"))
        .unwrap_or_default();
    match fit.as_slice() {
        [] => format!(
            "create a permission set with API Enabled and assign it to '{username}' (none in this \
             org that it can be assigned grants it{unfit})"
        ),
        [one] => format!(
            "assign {one}, which grants API Enabled, to '{username}' (Setup > Users > Permission \
             Sets > the set > Manage Assignments{unfit})"
        ),
        [rest @ .., last] => format!(
            "assign one of {} or {last}, which grant API Enabled, to '{username}' (Setup > Users > \
             Permission Sets or Permission Set Groups > the set > Manage Assignments{unfit})",
            rest.join(", ")
        ),
    }
}

/// The org's API Enabled sets tied to a license the user lacks ("'X'
/// (X_Name): it is tied to the 'L' license and 'user' has 'M'"), or `None`.
fn unfit_grantors(facts: &Facts, username: &str) -> Option<String> {
    let has = facts
        .license
        .as_ref()
        .map(|l| format!("'{username}' has '{}'", l.name))
        .unwrap_or_else(|| format!("'{username}' has another"));
    let unfit: Vec<String> = facts
        .api_grantors
        .iter()
        .filter_map(|g| {
            let lic = g.needs_license.as_ref()?;
            Some(format!(
                "'{}' ({}): it is tied to the '{lic}' license and {has}",
                g.label, g.api_name
            ))
        })
        .collect();
    (!unfit.is_empty()).then(|| unfit.join("; nor "))
}

fn app_finding(facts: &Facts, family: Family, username: &str) -> Option<Finding> {
    // An unreadable pre-authorization list is not an empty one.
    if facts.gap("ConnectedApplication") || facts.gap("SetupEntityAccess") {
        return None;
    }
    let blocked: Vec<&str> = facts
        .apps
        .iter()
        .filter(|a| a.admin_approved_only && a.preauthorized_via.is_empty())
        .map(|a| a.name.as_str())
        .collect();
    if blocked.is_empty() {
        return None;
    }
    // Several apps and no clear sign: the refusal may come from another app.
    if family != Family::App && blocked.len() > 1 && facts.apps.len() > blocked.len() {
        return None;
    }
    let names: Vec<String> = blocked.iter().map(|n| format!("'{n}'")).collect();
    let profile = facts
        .profile
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_else(|| "(unknown)".into());
    Some(Finding {
        apps: Vec::new(),
        cause: Cause::ConnectedAppNotPreAuthorized,
        explanation: format!(
            "Connected App {} allows admin-approved users only, and neither profile '{profile}' \
             nor any permission set of '{username}' is pre-authorized for it",
            names.join(", ")
        ),
        fix: format!(
            "pre-authorize the user: Setup > App Manager > {} > Manage > Profiles (add \
             '{profile}') or Permission Sets (add one assigned to '{username}'); or set Permitted \
             Users to \"All users may self-authorize\"",
            names[0]
        ),
    })
}

fn nothing_found(
    facts: &Facts,
    failure: &Failure,
    family: Family,
    flow: Flow,
    evidence: Vec<String>,
) -> Diagnosis {
    // What "no known cause holds" would claim without having seen it.
    let mut needed = vec![
        "User",
        "Profile",
        "UserLicense",
        "PermissionSetAssignment",
        "PermissionSet",
        "Organization",
    ];
    if family == Family::App || flow.uses_connected_app {
        needed.extend(["ConnectedApplication", "SetupEntityAccess"]);
    }
    match family {
        Family::Object => needed.push("ObjectPermissions"),
        Family::Field => needed.extend(["FieldPermissions", "FieldDefinition"]),
        Family::Version => needed.push("versions"),
        _ => {}
    }
    let blind: Vec<&Gap> = facts
        .gaps
        .iter()
        .filter(|g| needed.contains(&g.object.as_str()))
        .collect();
    if !blind.is_empty() {
        let objects: Vec<&str> = blind
            .iter()
            .map(|g| match g.object.as_str() {
                "versions" => "the API versions",
                o => o,
            })
            .collect();
        return Diagnosis {
            changes: Vec::new(),
            cause: Cause::AuditorCannotSee,
            explanation: format!(
                "the auditor could not read {} (see evidence), so the cause is undetermined",
                objects.join(", ")
            ),
            fix: blind_fix(&blind),
            evidence,
        };
    }
    let user_unknown =
        facts.user.is_none() && facts.target.username.is_none() && facts.target.user_id.is_none();
    if let Some(check) = super::eca::refused_check(facts, failure, family) {
        return Diagnosis {
            changes: Vec::new(),
            cause: Cause::EcaUnread,
            explanation: format!(
                "{}: {} points at an External Client App, but the auditor could not read External \
                 Client Apps' policies (the Metadata API needs \"Modify Metadata Through Metadata \
                 API Functions\"; see evidence), so that cause is neither confirmed nor ruled out; {}",
                failure.code,
                failure.message.trim_end_matches('.'),
                if user_unknown {
                    "this auth flow names no user, so its access was not checked"
                } else {
                    "the user's own access is in order"
                }
            ),
            fix: format!(
                "if the integration logs in through an External Client App, {check}; if not, \
                 check {}; `sfsmoke explain {}` lists the other causes",
                credentials_to_check(flow),
                failure.code
            ),
            evidence,
        };
    }
    if user_unknown {
        return Diagnosis {
            changes: Vec::new(),
            cause: Cause::UserUnknown,
            explanation: format!(
                "this auth flow names no user and its login failed ({}: {}), so the user's own \
                 access could not be checked; the org's edition and API versions are in order",
                failure.code,
                failure.message.trim_end_matches('.')
            ),
            fix: format!(
                "check the user the flow logs in as (client credentials: the app's Run As user; \
                 Connected App: Setup > App Manager > the app > Manage > Edit Policies > Client \
                 Credentials Flow; External Client App: Setup > External Client App Manager > the \
                 app > Edit Policies > OAuth Policies > Run As): active, a license with API access, API Enabled, pre-authorized for the app; \
                 `sfsmoke explain {}` lists the causes of {}{}",
                failure.code,
                failure.code,
                super::eca::unchecked(facts, failure, family)
            ),
            evidence,
        };
    }
    if family == Family::App {
        return Diagnosis {
            changes: Vec::new(),
            cause: Cause::NoneFound,
            explanation: format!(
                "no Connected App blocks the user by policy: the app lets users self-authorize, \
                 and a JWT bearer or client credentials user that never approved it is refused \
                 (\"user hasn't approved this consumer\"); {}",
                if facts.gap(crate::audit::eca::POLICIES) || facts.gap(crate::audit::eca::OBJECT) {
                    "External Client Apps' policies could not be read (see evidence), so if the \
                     integration uses one, its Permitted Users and plugin switch are unchecked"
                } else {
                    "no External Client App blocks it either"
                }
            ),
            fix: "pre-authorize the user. Connected App: Setup > App Manager > the app > Manage > \
                  Edit Policies > Permitted Users = \"Admin approved users are pre-authorized\", \
                  then add the user's profile or a permission set of it under Manage Profiles / \
                  Manage Permission Sets. External Client App: Setup > External Client App \
                  Manager > the app > Edit Policies > OAuth Policies > Permitted Users, select \
                  a permission set of the user, and keep its OAuth plugin on \
                  (ExtlClntAppConfigurablePolicies isOauthPluginEnabled)"
                .into(),
            evidence,
        };
    }
    if family == Family::Scope {
        return Diagnosis {
            changes: Vec::new(),
            cause: Cause::NoneFound,
            explanation: format!(
                "{}; a Connected App's scopes cannot be read by the auditor",
                if facts.gap(crate::audit::eca::POLICIES) || facts.gap(crate::audit::eca::SCOPES) {
                    "External Client Apps' scopes could not be read (see evidence)"
                } else {
                    "no External Client App's scopes lack api"
                }
            ),
            fix: format!(
                "give the app the scope \"Manage user data via APIs (api)\": Connected App: \
                 {} > the app > Edit > Selected OAuth Scopes; External Client App: {} > the app \
                 > {}; then log in again",
                crate::triage::CONNECTED_APP_MANAGER,
                crate::triage::ECA_MANAGER,
                crate::triage::ECA_SCOPES
            ),
            evidence,
        };
    }
    // The object exists and Read on it is granted: what refuses is below
    // object access (field-level security, a record's sharing).
    let readable = refused_object(failure, facts).and_then(|obj| {
        let by = facts.object_read.get(&obj).filter(|by| !by.is_empty())?;
        Some((obj, by.join(", ")))
    });
    if let (Family::Object, Some((obj, by))) = (family, readable) {
        return Diagnosis {
            changes: Vec::new(),
            cause: Cause::NoneFound,
            explanation: format!(
                "{obj} exists and Read on it is granted by {by}, and the user's API access is in \
                 order: the refusal is not this object's Read (a hidden field is diagnosed on its \
                 own, and sharing never refuses a query) ({}: {})",
                failure.code,
                failure.message.trim().trim_end_matches('.')
            ),
            fix: format!(
                "check field-level security of the fields the failing query names (Setup > Object \
                 Manager > {obj} > Fields & Relationships > the field > Set Field-Level Security: \
                 visible for the integration's profile or permission set) and, for a record by id, \
                 the record's sharing (the Sharing button on the record)"
            ),
            evidence,
        };
    }
    let fix = match family {
        Family::Credentials => format!(
            "the user's access is in order, so {} is about the credentials: check {}{}",
            failure.code,
            credentials_to_check(flow),
            super::eca::unchecked(facts, failure, family)
        ),
        Family::Object => {
            "the user's API access is in order: give it Read on the object (a permission \
                           set with the object's Read permission) or check the object's API name"
                .into()
        }
        Family::Field => {
            "the user's API access is in order and the auditor sees Read on the field: \
                          check the field's API name in the check's soql against Setup > Object \
                          Manager > the object > Fields & Relationships (custom fields end in __c)"
                .into()
        }
        _ => "the checked settings are in order: check login IP ranges and Login History \
              (Setup > Users > Users > user > Login History), then open a case with Salesforce"
            .into(),
    };
    Diagnosis {
        changes: Vec::new(),
        cause: Cause::NoneFound,
        explanation: "no known cause holds: the user is active, its license, profile or permission \
                      sets grant API Enabled, the edition has API access and the version is supported"
            .into(),
        fix,
        evidence,
    }
}

/// The credentials a login with `flow` depends on: the password and token
/// only when it sends one.
fn credentials_to_check(flow: Flow) -> &'static str {
    if flow.password {
        "the password and security token (Setup > My Personal Information > Reset My Security \
         Token), the consumer key/secret, and the user's Login History"
    } else {
        "the consumer key, the certificate or client secret the flow signs with, and the user's \
         Login History (Setup > Users > Users > the user > Login History)"
    }
}

/// What to do when the auditor's queries failed: a missing permission is
/// fixed on the auditor; anything else (an expired session, the quota, the
/// network) is not, and saying "give it View Setup" would send the on-call
/// engineer the wrong way.
fn blind_fix(blind: &[&Gap]) -> String {
    let permission = crate::salesforce::error::cannot_read_setup;
    let mut other: Vec<&str> = blind
        .iter()
        .map(|g| g.failure.code.as_str())
        .filter(|c| !permission(c))
        .collect();
    other.sort_unstable();
    other.dedup();
    const VIEW_SETUP: &str = "give the auditor user \"View Setup and Configuration\" and \"API \
                              Enabled\" (a read-only permission set is enough)";
    match other.as_slice() {
        [] => format!("{VIEW_SETUP}, then rerun"),
        codes => format!(
            "the auditor's queries failed with {}, which is not a missing permission: see \
             `sfsmoke explain {}`{}, then rerun",
            codes.join(", "),
            codes[0],
            if blind.iter().any(|g| permission(&g.failure.code)) {
                format!("; also {VIEW_SETUP}")
            } else {
                String::new()
            }
        ),
    }
}

/// When the auditor's own login is refused with `API_DISABLED_FOR_ORG`, the
/// refusal is org-wide (a different user, with API Enabled, is refused too):
/// the edition lost API access or a trial ended. No setup object can be read
/// then, so smoke.lock (when there is one) tells which is likelier.
pub fn org_refuses_everyone(
    failure: &Failure,
    auditor: &Failure,
    known_good: Option<&OrgSnapshot>,
) -> Option<Diagnosis> {
    if auditor.code != "API_DISABLED_FOR_ORG"
        || !matches!(Family::of(failure), Family::Access | Family::Other)
    {
        return None;
    }
    let mut evidence = vec![format!("the auditor's login was refused too: {auditor}")];
    if let Some(s) = known_good {
        let mut line = format!("smoke.lock: {}", s.edition);
        if !s.trial_expires.is_empty() {
            line.push_str(&format!(", trial until {}", s.trial_expires));
        }
        evidence.push(line);
    }
    let trial = known_good
        .map(|s| s.trial_expires.as_str())
        .filter(|t| !t.is_empty());
    Some(match trial {
        Some(t) => Diagnosis {
            changes: Vec::new(),
            cause: Cause::TrialExpired,
            explanation: format!(
                "every user is refused, the auditor too, and smoke.lock recorded a trial org \
                 (trial until {t}): the trial has ended"
            ),
            fix: "convert the trial to a paid edition, or point the integration at an active org \
                  (Setup > Company Settings > Company Information)"
                .into(),
            evidence,
        },
        None => Diagnosis {
            changes: Vec::new(),
            cause: Cause::EditionWithoutApi,
            explanation: format!(
                "every user is refused, the auditor too, so the whole org has no API access{}: \
                 its edition has none (Essentials, Professional without the API add-on) or its \
                 trial has ended",
                known_good
                    .filter(|s| !s.edition.is_empty())
                    .map(|s| format!(" any more (smoke.lock recorded {})", s.edition))
                    .unwrap_or_default()
            ),
            fix: "check Setup > Company Settings > Company Information: Organization Edition (buy \
                  the API add-on or upgrade to Enterprise, Unlimited or Performance) and Trial \
                  Expiration Date (convert the trial to a paid edition)"
                .into(),
            evidence,
        },
    })
}

/// Human lines for what the queries found. A query that failed is said as
/// such ("could not read User (CODE: message)"), never as an absent fact.
pub fn evidence(facts: &Facts, requested_version: &str) -> Vec<String> {
    let mut ev = Vec::new();
    // The objects whose failure is already told on a fact's own line.
    let mut told: Vec<&str> = Vec::new();
    let mut unread = |object: &'static str| {
        let line = facts.unread(object);
        if line.is_some() {
            told.push(object);
        }
        line
    };
    match &facts.org {
        Some(org) => {
            let mut line = format!("org: {}", org.edition);
            if org.is_sandbox {
                line.push_str(", sandbox");
            }
            if let Some(t) = org.trial_expires {
                line.push_str(&format!(", trial until {}", t.format("%Y-%m-%d")));
            }
            ev.push(line);
        }
        None => match unread("Organization") {
            Some(u) => ev.push(format!("org: {u}")),
            None => ev.push("org: the Organization query returned no record".into()),
        },
    }
    match (facts.version_range(), unread("versions")) {
        (Some((o, n)), _) => ev.push(format!(
            "API versions: {o} to {n} (configured {requested_version})"
        )),
        (None, Some(u)) => ev.push(format!("API versions: {u}")),
        (None, None) => {}
    }
    let who = facts.target.describe();
    match &facts.user {
        Some(u) => {
            let mut line = format!(
                "user '{}': {}",
                u.username,
                if u.active { "active" } else { "inactive" }
            );
            if let Some(t) = &u.user_type {
                line.push_str(&format!(", type {t}"));
            }
            if let Some(l) = &facts.license {
                line.push_str(&format!(", license '{}'", l.name));
            }
            ev.push(line);
            let license_id = facts.profile.as_ref().and_then(|p| p.license_id.as_ref());
            if let (None, Some(id)) = (&facts.license, license_id) {
                match unread("UserLicense") {
                    Some(u) => ev.push(format!("license: {u}")),
                    None => ev.push(format!("license {id}: not found")),
                }
            }
        }
        None if facts.target.username.is_none() && facts.target.user_id.is_none() => {
            ev.push("user: not looked up (this auth flow names no user)".into())
        }
        None => match unread("User") {
            Some(u) => ev.push(format!("user: {u}, so {who} could not be checked")),
            None => ev.push(format!("user: no user matches {who}")),
        },
    }
    match (
        &facts.profile,
        facts.user.as_ref().and_then(|u| u.profile_id.as_ref()),
    ) {
        (Some(p), _) => ev.push(format!(
            "profile '{}': API Enabled {}",
            p.name,
            if p.api_enabled { "on" } else { "off" }
        )),
        (None, Some(id)) => match unread("Profile") {
            Some(u) => ev.push(format!("profile: {u}")),
            None => ev.push(format!("profile {id}: not found")),
        },
        (None, None) => {}
    }
    let sets_unread = unread("PermissionSet");
    for a in &facts.assignments {
        let api = match (&sets_unread, a.grants_api) {
            (Some(_), _) => "API Enabled unknown (the permission set could not be read)",
            (None, true) => "API Enabled on",
            (None, false) => "API Enabled off",
        };
        let mut line = format!("{}: {api}", a.source());
        if !a.active {
            line.push_str(", assignment inactive");
        }
        if let Some(e) = a.expires {
            if e <= facts.now {
                line.push_str(&format!(", expired {}", e.format("%Y-%m-%d")));
            } else {
                line.push_str(&format!(", expires {}", e.format("%Y-%m-%d")));
            }
        }
        // "Updated" is a group's normal state; anything else (Outdated,
        // Updating, Failed) means its permissions are not what they say.
        if let Some(s) = a.group_status.as_ref().filter(|s| *s != "Updated") {
            line.push_str(&format!(
                ", group status {s} (its permissions are not recalculated yet)"
            ));
        }
        ev.push(line);
    }
    if facts.user.is_some() {
        match unread("PermissionSetAssignment") {
            Some(u) => ev.push(format!("permission set assignments: {u}")),
            None if facts.assignments.is_empty() => ev.push("no permission set assigned".into()),
            None => {}
        }
        if let Some(u) = sets_unread {
            ev.push(format!("permission sets: {u}"));
        }
    }
    let grants_read = !facts.gap("PermissionSet") && !facts.gap("PermissionSetAssignment");
    if facts.profile.is_some() && grants_read && facts.api_sources().is_empty() {
        match unread(GRANTORS) {
            Some(u) => ev.push(format!("permission sets with API Enabled: {u}")),
            None if facts.api_grantors.is_empty() => {
                ev.push("no permission set or group in this org grants API Enabled".into())
            }
            None => {
                let all: Vec<String> = facts
                    .api_grantors
                    .iter()
                    .map(|g| match &g.needs_license {
                        Some(l) => format!("{} (license '{l}')", g.describe()),
                        None => g.describe(),
                    })
                    .collect();
                ev.push(format!(
                    "granting API Enabled in this org: {}",
                    all.join(", ")
                ));
            }
        }
    }
    let grantors = facts
        .object_grantors
        .iter()
        .map(|(o, by)| (o, by, &facts.object_exists));
    let field_grantors = facts
        .field_grantors
        .iter()
        .map(|(f, by)| (f, by, &facts.field_exists));
    for (o, by, exists) in grantors.chain(field_grantors) {
        if exists.get(o) == Some(&false) {
            continue;
        }
        // Sets first (what a fix would assign), then profiles; a real org
        // has many profiles, so the list is cut.
        const SHOWN: usize = 8;
        let mut by: Vec<&String> = by.iter().collect();
        by.sort_by_key(|s| (s.starts_with("profile "), s.as_str()));
        let more = by.len().saturating_sub(SHOWN);
        let mut list: Vec<&str> = by.iter().take(SHOWN).map(|s| s.as_str()).collect();
        let tail = format!("and {more} more");
        if more > 0 {
            list.push(&tail);
        }
        ev.push(if list.is_empty() {
            format!("Read on {o} in this org: granted by no profile or permission set")
        } else {
            format!("Read on {o} in this org: granted by {}", list.join(", "))
        });
    }
    for (o, exists) in &facts.object_exists {
        ev.push(if *exists {
            format!("object {o}: exists in this org, nothing grants Read on it")
        } else {
            format!("object {o}: not in this org (no EntityDefinition)")
        });
    }
    for (f, exists) in &facts.field_exists {
        ev.push(if *exists {
            format!("field {f}: defined, nothing in force grants the user Read on it")
        } else {
            format!(
                "field {f}: not defined on {} (no FieldDefinition)",
                crate::audit::facts::field_object(f)
            )
        });
    }
    let apps_unread = unread("ConnectedApplication");
    let access_unread = unread("SetupEntityAccess");
    for app in &facts.apps {
        let policy = if app.admin_approved_only {
            "admin-approved users only"
        } else {
            "all users may self-authorize"
        };
        let who = match (app.preauthorized_via.is_empty(), app.admin_approved_only) {
            (false, _) => format!(", pre-authorized via {}", app.preauthorized_via.join(", ")),
            (true, true) if access_unread.is_some() => {
                ", pre-authorization unknown (SetupEntityAccess could not be read)".into()
            }
            (true, true) if facts.user.is_none() => String::new(),
            (true, true) => ", user not pre-authorized".into(),
            (true, false) => String::new(),
        };
        ev.push(format!("Connected App '{}': {policy}{who}", app.name));
    }
    if let Some(u) = apps_unread {
        ev.push(format!("Connected Apps: {u}"));
    }
    if let Some(u) = access_unread {
        ev.push(format!("Connected App pre-authorizations: {u}"));
    }
    // External Client App gaps are told with the apps (super::eca).
    told.extend([
        crate::audit::eca::OBJECT,
        crate::audit::eca::POLICIES,
        crate::audit::eca::SCOPES,
    ]);
    for g in facts
        .gaps
        .iter()
        .filter(|g| !told.contains(&g.object.as_str()))
    {
        ev.push(
            facts
                .unread(&g.object)
                .unwrap_or_else(|| format!("could not read {g}")),
        );
    }
    ev
}
