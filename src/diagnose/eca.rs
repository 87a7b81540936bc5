//! External Client Apps in the diagnosis: which app the failure points at,
//! by policy (the consumer key cannot be matched to an app without reading
//! its secret), and the fix that exists. Several apps showing the same sign
//! and nothing to tell them apart: all are listed, none is guessed.
//!
//! The signs (token endpoint texts as for Connected Apps):
//! - `invalid_app_access` / "user hasn't approved this consumer": admin
//!   approved, none of the user's permission sets pre-authorized;
//! - `invalid_client_id` "client identifier invalid": the OAuth plugin off;
//! - `invalid_grant` "no client credentials user enabled": the client
//!   credentials flow off, or no run-as user; an `API_DISABLED_FOR_ORG`
//!   after such a login whose run-as user changed (smoke.lock);
//! - `INVALID_SESSION_ID` "not valid for use with the REST API": scopes
//!   without `api`.

use super::reason::{Family, Finding};
use super::Cause;
use crate::audit::access::OrgSnapshot;
use crate::audit::eca::{self, EcaFacts, POLICIES_COST, SCOPES_COST};
use crate::audit::facts::Facts;
use crate::salesforce::error::Failure;

const MANAGER: &str = crate::triage::ECA_MANAGER;

/// The causes this module names.
pub const CAUSES: [Cause; 4] = [
    Cause::EcaNotPreAuthorized,
    Cause::EcaPluginOff,
    Cause::EcaClientCredentials,
    Cause::EcaScopeWithoutApi,
];

/// What a failure says about an External Client App.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sign {
    NotPreAuthorized,
    PluginOff,
    ClientCredentials,
    Scope,
}

fn sign(failure: &Failure, family: Family) -> Option<Sign> {
    let msg = failure.message.to_ascii_lowercase();
    match failure.code.as_str() {
        "invalid_client_id" => Some(Sign::PluginOff),
        "invalid_grant" if msg.contains("client credentials") => Some(Sign::ClientCredentials),
        "INVALID_SESSION_ID" if msg.contains("not valid for use with the rest api") => {
            Some(Sign::Scope)
        }
        _ if family == Family::App => Some(Sign::NotPreAuthorized),
        _ => None,
    }
}

/// True when `failure` can be explained by an External Client App's
/// policies (Permitted Users, the OAuth plugin, client credentials and its
/// run-as user, scopes): only then does a diagnosis pay for the Metadata
/// API read of them.
pub fn reads_policies(failure: &Failure) -> bool {
    let family = Family::of(failure);
    sign(failure, family).is_some() || family == Family::Access
}

/// What to check by hand in an External Client App ("check that its OAuth
/// plugin is on by hand (...)") when the failure points at its policies and
/// they could not be read; else `None`.
pub(super) fn unread_check(facts: &Facts, failure: &Failure, family: Family) -> Option<String> {
    let sign = sign(failure, family);
    let unread = facts.gap(eca::POLICIES) || (sign == Some(Sign::Scope) && facts.gap(eca::SCOPES));
    if !unread {
        return None;
    }
    let what = match sign {
        Some(Sign::PluginOff) => "that its OAuth plugin is on",
        Some(Sign::ClientCredentials) => {
            "that its client credentials flow is enabled and Run As names an active, API-enabled user"
        }
        Some(Sign::Scope) => "that its scopes include api",
        _ => return None,
    };
    Some(format!(
        "check {what} by hand ({MANAGER} > the app > Edit Policies)"
    ))
}

/// The check by hand ([`unread_check`]) when the policies went unread for
/// want of a permission (Modify Metadata): a cause of its own in the
/// diagnosis. `None` when they were read, or a read failed for another
/// reason (the quota, the network: nothing to grant).
pub(super) fn refused_check(facts: &Facts, failure: &Failure, family: Family) -> Option<String> {
    let refused = facts.gaps.iter().any(|g| {
        g.object == eca::POLICIES && crate::salesforce::error::cannot_read_setup(&g.failure.code)
    });
    refused
        .then(|| unread_check(facts, failure, family))
        .flatten()
}

/// `; ...` naming what to check by hand in an External Client App when the
/// failure points at its policies and they could not be read; else empty.
pub(super) fn unchecked(facts: &Facts, failure: &Failure, family: Family) -> String {
    match unread_check(facts, failure, family) {
        Some(check) => format!(
            "; if the integration logs in through an External Client App, {check}: its policies \
             could not be read (see evidence)"
        ),
        None => String::new(),
    }
}

/// True for `INVALID_SESSION_ID` "This session is not valid for use with
/// the REST API": the app's scopes, not the session's age.
pub fn scope_refusal(failure: &Failure) -> bool {
    sign(failure, Family::Other) == Some(Sign::Scope)
}

/// One app showing the sign: why, and the fix.
struct Candidate {
    label: String,
    /// The app's API name: the finding names its apps by it.
    app: String,
    why: String,
    fix: String,
    relevant: bool,
}

/// The finding for `failure` among the org's External Client Apps, or
/// `None` when no app shows its sign.
pub(super) fn finding(
    facts: &Facts,
    failure: &Failure,
    family: Family,
    known_good: Option<&OrgSnapshot>,
) -> Option<Finding> {
    let (cause, candidates) = match sign(failure, family) {
        Some(Sign::NotPreAuthorized) => (
            Cause::EcaNotPreAuthorized,
            not_preauthorized(facts, known_good)?,
        ),
        Some(Sign::PluginOff) => (Cause::EcaPluginOff, plugin_off(facts, known_good)),
        Some(Sign::ClientCredentials) => (
            Cause::EcaClientCredentials,
            client_credentials(facts, known_good, false),
        ),
        Some(Sign::Scope) => (Cause::EcaScopeWithoutApi, scopes(facts, known_good)),
        None if family == Family::Access => (
            Cause::EcaClientCredentials,
            client_credentials(facts, known_good, true),
        ),
        None => return None,
    };
    let mut candidates = candidates;
    if candidates.len() > 1 && candidates.iter().any(|c| c.relevant) {
        candidates.retain(|c| c.relevant);
    }
    let refusal = format!(
        "{}: {}",
        failure.code,
        failure.message.trim().trim_end_matches('.')
    );
    match candidates.as_slice() {
        [] => None,
        [one] => Some(Finding {
            cause,
            explanation: format!("{} ({refusal})", one.why),
            fix: one.fix.clone(),
            apps: vec![one.app.clone()],
        }),
        several => {
            let names: Vec<String> = several.iter().map(|c| c.label.clone()).collect();
            let fixes: Vec<String> = several
                .iter()
                .map(|c| format!("if it is {}: {}", c.label, c.fix))
                .collect();
            Some(Finding {
                cause,
                explanation: format!(
                    "{} External Client Apps show this sign and nothing tells which one serves \
                     the integration (its consumer key cannot be matched to an app without \
                     reading the app's secret): {} ({refusal})",
                    several.len(),
                    several
                        .iter()
                        .map(|c| c.why.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                fix: format!(
                    "find the app whose consumer key the integration uses among {} ({MANAGER} \
                     > the app > Settings > OAuth Settings > Consumer Key and Secret); {}",
                    names.join(", "),
                    fixes.join("; ")
                ),
                apps: several.iter().map(|c| c.app.clone()).collect(),
            })
        }
    }
}

/// The names the Setup Audit Trail would mention for `apps` (a finding's
/// [`Finding::apps`], by API name): label, API name, and the policy
/// components' fullNames (`Warehouse_Sync_oauthPlcy`: an entry about a
/// component names it, not the app); when the components were not read,
/// the names Salesforce gives them when the app is created.
pub fn trail_names(
    facts: &Facts,
    known_good: Option<&OrgSnapshot>,
    apps: &[String],
) -> Vec<String> {
    let mut names = Vec::new();
    for app in facts.eca.apps.iter().filter(|a| apps.contains(&a.api_name)) {
        let (_, app_label) = name_of(app, known_good);
        names.extend([app_label, app.api_name.clone()]);
        match &app.policies {
            Some(p) => names.extend(p.components.iter().cloned()),
            None => names.extend(usual_components(&app.api_name)),
        }
    }
    // Apps only smoke.lock still knows.
    if let Some(k) = known_good {
        for (api, e) in &k.external_client_apps {
            let seen = facts.eca.apps.iter().any(|a| &a.api_name == api);
            if apps.contains(api) && !seen {
                names.extend([api.clone(), e.label.clone()]);
                names.extend(usual_components(api));
            }
        }
    }
    names
}

/// The fullNames Salesforce gives an app's OAuth settings, plugin
/// policies and OAuth policies (`sf project retrieve` writes them so).
fn usual_components(api_name: &str) -> [String; 3] {
    ["_oauth", "_plcy", "_oauthPlcy"].map(|s| format!("{api_name}{s}"))
}

/// The path to an app's OAuth policies.
fn policies_path(label: &str) -> String {
    format!("{MANAGER} > {label} > Edit Policies > OAuth Policies")
}

/// `External Client App 'Label' (Api_Name)`; an app known only from its
/// policies has no label of its own, so smoke.lock's is used.
fn name_of(app: &EcaFacts, known_good: Option<&OrgSnapshot>) -> (String, String) {
    let label = match known_good.and_then(|k| k.external_client_apps.get(&app.api_name)) {
        Some(e) if app.label == app.api_name && !e.label.is_empty() => e.label.clone(),
        _ => app.label.clone(),
    };
    let shown = EcaFacts {
        label: label.clone(),
        ..app.clone()
    };
    (format!("External Client App {}", shown.describe()), label)
}

/// Whether the app serves this user: pre-authorized through one of its
/// sets, running client credentials as it, or recorded in smoke.lock.
fn relevant(app: &EcaFacts, facts: &Facts, known_good: Option<&OrgSnapshot>) -> bool {
    !app.preauthorized_via.is_empty()
        || app
            .policies
            .as_ref()
            .and_then(|p| p.run_as.as_deref())
            .zip(facts.user.as_ref())
            .is_some_and(|(r, u)| eca::names_user(r, u))
        || known_good.is_some_and(|k| k.external_client_apps.contains_key(&app.api_name))
}

/// The user's permission set to pre-authorize on `app`: the one smoke.lock
/// recorded, else one in force (API Enabled first), as `permission set
/// 'Label' (Api_Name)`.
fn set_to_preauthorize(facts: &Facts, recorded: &[String]) -> Option<String> {
    let in_force: Vec<_> = facts.in_force().filter(|a| a.group.is_none()).collect();
    let pick = in_force
        .iter()
        .find(|a| recorded.contains(&a.source()))
        .or_else(|| in_force.iter().find(|a| a.grants_api))
        .or_else(|| in_force.first())?;
    Some(format!("{} ({})", pick.source(), pick.api_name))
}

fn not_preauthorized(facts: &Facts, known_good: Option<&OrgSnapshot>) -> Option<Vec<Candidate>> {
    // An unread list is not an empty one; an unknown user has no sets
    // (and Permitted Users does not apply to a run-as user).
    let user = facts.user.as_ref()?;
    if facts.gap(eca::OBJECT) {
        return None;
    }
    let policies_unread = facts.gap(eca::POLICIES);
    let recorded = |api: &str| -> Vec<String> {
        known_good
            .and_then(|k| k.external_client_apps.get(api))
            .map(|e| e.preauthorized_via.clone())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for app in &facts.eca.apps {
        if !app.preauthorized_via.is_empty() {
            continue;
        }
        let approved = match app.policies.as_ref().and_then(|p| p.admin_approved) {
            Some(a) => a,
            // Policies unread: an app that pre-authorizes other sets.
            None => app.has_preauthorizations,
        };
        if !approved {
            continue;
        }
        let was = recorded(&app.api_name);
        let (label, app_label) = name_of(app, known_good);
        let policy = if app.policies.is_some() {
            "admits admin-approved users only (Permitted Users = \"Admin approved users are \
             pre-authorized\")"
                .to_string()
        } else {
            format!(
                "pre-authorizes permission sets (SetupEntityAccess), so Permitted Users is \
                 admin-approved{}",
                if policies_unread {
                    " (its policies could not be read to confirm it)"
                } else {
                    ""
                }
            )
        };
        let lock = if was.is_empty() {
            String::new()
        } else {
            format!(
                " (smoke.lock recorded it pre-authorized via {})",
                was.join(", ")
            )
        };
        out.push(Candidate {
            why: format!(
                "{label} {policy}, and none of the permission sets of '{}' is pre-authorized for \
                 it{lock}",
                user.username
            ),
            fix: preauthorize_fix(facts, &app_label, &was),
            relevant: !was.is_empty(),
            label,
            app: app.api_name.clone(),
        });
    }
    // Apps smoke.lock recorded that no longer show at all (no permission
    // set pre-authorizes them any more, and the policies are unread).
    if let Some(k) = known_good {
        for (api, e) in &k.external_client_apps {
            let seen = facts.eca.apps.iter().any(|a| &a.api_name == api);
            if seen || e.preauthorized_via.is_empty() {
                continue;
            }
            let label = format!("External Client App '{}' ({api})", e.label);
            out.push(Candidate {
                why: format!(
                    "{label} was pre-authorized via {} (smoke.lock) and no permission set \
                     pre-authorizes it now (SetupEntityAccess)",
                    e.preauthorized_via.join(", ")
                ),
                fix: preauthorize_fix(facts, &e.label, &e.preauthorized_via),
                relevant: true,
                label,
                app: api.clone(),
            });
        }
    }
    Some(out)
}

fn preauthorize_fix(facts: &Facts, app_label: &str, recorded: &[String]) -> String {
    let username = facts
        .user
        .as_ref()
        .map(|u| u.username.as_str())
        .unwrap_or("the user");
    let set = set_to_preauthorize(facts, recorded)
        .unwrap_or_else(|| format!("a permission set assigned to '{username}'"));
    format!(
        "pre-authorize {set} on External Client App '{app_label}': {} > Permitted Users \
         \"Admin approved users are pre-authorized\", then select that permission set (an \
         External Client App is pre-authorized by permission set or profile (Edit Policies > \
         OAuth Policies)); or set Permitted Users to \"All \
         users may self-authorize\"",
        policies_path(app_label)
    )
}

fn plugin_off(facts: &Facts, known_good: Option<&OrgSnapshot>) -> Vec<Candidate> {
    facts
        .eca
        .apps
        .iter()
        .filter(|a| a.policies.as_ref().is_some_and(|p| p.plugin_off()))
        .map(|app| {
            let p = app.policies.as_ref().expect("filtered");
            let which = if p.plugins_enabled == Some(false) {
                "every plugin is off (isEnabled = false)"
            } else {
                "its OAuth plugin is off (isOauthPluginEnabled = false)"
            };
            let (label, app_label) = name_of(app, known_good);
            Candidate {
                why: format!(
                    "{label}: {which}, so the token endpoint knows no client with its consumer \
                     key"
                ),
                fix: format!(
                    "switch the OAuth plugin on for External Client App '{}': set isEnabled \
                     and isOauthPluginEnabled to true in its plugin policies, \
                     ExtlClntAppConfigurablePolicies (extlClntAppPolicies/{}_plcy.ecaPlcy-meta.xml \
                     as `sf project retrieve` names it), and deploy it (Salesforce Help: \
                     \"Enable or Disable External Client App Plugins\")",
                    app_label, app.api_name
                ),
                relevant: relevant(app, facts, known_good),
                label,
                app: app.api_name.clone(),
            }
        })
        .collect()
}

/// Apps whose client credentials flow cannot log in: off, no run-as user,
/// or (`changed_only`, after an API refusal) a run-as user other than
/// smoke.lock's.
fn client_credentials(
    facts: &Facts,
    known_good: Option<&OrgSnapshot>,
    changed_only: bool,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for app in &facts.eca.apps {
        let Some(p) = &app.policies else { continue };
        let was = known_good.and_then(|k| k.external_client_apps.get(&app.api_name));
        let old_run_as = was.and_then(|w| w.run_as.clone());
        let changed = matches!((&old_run_as, &p.run_as), (Some(o), Some(n)) if !eca::same_run_as(o, n, facts.user.as_ref()));
        let (label, app_label) = name_of(app, known_good);
        let path = policies_path(&app_label);
        let api_only = "an active, API-enabled \"API Only\" integration user";
        let (why, fix) = if changed_only || changed {
            if !changed {
                continue;
            }
            let (old, new) = (
                old_run_as.unwrap_or_default(),
                p.run_as.clone().unwrap_or_default(),
            );
            (
                format!(
                    "{label}: the client credentials run-as user changed from '{old}' \
                     (smoke.lock) to '{new}'{}",
                    if changed_only {
                        ", and the new one is refused API access"
                    } else {
                        ""
                    }
                ),
                format!(
                    "set Run As back to '{old}', or give '{new}' API access ({api_only}): \
                     {path} > Run As"
                ),
            )
        } else if p.client_credentials == Some(false) {
            if was.is_some_and(|w| w.client_credentials != Some(true))
                || (was.is_none() && known_good.is_some_and(|k| !k.external_client_apps.is_empty()))
            {
                // Recorded without the flow: not the app this flow uses.
                continue;
            }
            (
                format!(
                    "{label} has the client credentials flow disabled \
                     (isClientCredentialsFlowEnabled = false){}",
                    if was.is_some() {
                        " (smoke.lock recorded it enabled)"
                    } else {
                        ""
                    }
                ),
                format!(
                    "enable it: {path} > Enable Client Credentials Flow, with Run As set to {}",
                    p.run_as
                        .as_ref()
                        .map(|r| format!("'{r}' (the user the policy names now) or {api_only}"))
                        .unwrap_or_else(|| api_only.to_string())
                ),
            )
        } else if p.client_credentials == Some(true) && p.run_as.is_none() {
            (
                format!("{label} enables the client credentials flow but names no run-as user"),
                format!("set Run As to {api_only}: {path} > Run As"),
            )
        } else {
            continue;
        };
        out.push(Candidate {
            why,
            fix,
            // An app that names a run-as user is one the flow was set up on
            // (a JWT-only app has the flow off and no run-as user).
            relevant: was.is_some() || p.run_as.is_some() || relevant(app, facts, known_good),
            label,
            app: app.api_name.clone(),
        });
    }
    out
}

fn scopes(facts: &Facts, known_good: Option<&OrgSnapshot>) -> Vec<Candidate> {
    facts
        .eca
        .apps
        .iter()
        .filter(|a| a.policies.as_ref().is_some_and(|p| p.lacks_api_scope()))
        .map(|app| {
            let now = app
                .policies
                .as_ref()
                .and_then(|p| p.scopes.clone())
                .unwrap_or_default();
            let (label, app_label) = name_of(app, known_good);
            Candidate {
                why: format!(
                    "{label}'s OAuth scopes ({}) hold neither api nor full, so the REST API \
                     refuses its sessions",
                    if now.is_empty() {
                        "none".to_string()
                    } else {
                        now.join(", ")
                    }
                ),
                fix: format!(
                    "add the scope \"Manage user data via APIs (api)\" to External Client App \
                     '{}': {MANAGER} > {} > {}, then log in again for a token with it",
                    app_label,
                    app_label,
                    crate::triage::ECA_SCOPES
                ),
                relevant: relevant(app, facts, known_good),
                label,
                app: app.api_name.clone(),
            }
        })
        .collect()
}

/// Evidence lines for the org's External Client Apps: one per app, then
/// what could not be read. Empty when the org shows none and the reading
/// could not have shown one either way for a Connected App org (so a
/// Connected App org's evidence reads as before).
pub(super) fn evidence(
    facts: &Facts,
    failure: &Failure,
    family: Family,
    known_good: Option<&OrgSnapshot>,
) -> Vec<String> {
    let read = &facts.eca;
    // A read the API version predates is told once, in the version line.
    let skipped = |g: &&crate::audit::facts::Gap| g.failure.code == crate::codes::VERSION_TOO_OLD;
    let unread_object = facts
        .gaps
        .iter()
        .filter(|g| g.object == eca::OBJECT && !skipped(g))
        .find_map(|g| facts.unread(&g.object));
    let policies_gap = facts
        .gaps
        .iter()
        .find(|g| g.object == eca::POLICIES && !skipped(g));
    let matters = read.too_old.is_some()
        || !read.apps.is_empty()
        || known_good.is_some_and(|k| !k.external_client_apps.is_empty())
        || (facts.apps.is_empty() && sign(failure, family).is_some() && read.metadata_calls > 0);
    if !matters {
        return Vec::new();
    }
    let mut ev = Vec::new();
    for app in &read.apps {
        ev.push(app_line(app, facts));
    }
    if let Some(v) = &read.too_old {
        let major = crate::audit::facts::version_key(v).0;
        ev.push(format!(
            "External Client Apps: read at API v{v}, older than they need (SetupEntityAccess \
             rows of External Client Apps, ExtlClntAppConfigurablePolicies and the client \
             credentials policy fields exist from 60.0, the other Metadata API types from \
             59.0): {} unchecked and none is claimed absent; read them at API 60.0 or later",
            if major < eca::METADATA_SINCE {
                "pre-authorizations and every policy are"
            } else {
                "pre-authorizations, the plugin switch and the client credentials flow are"
            }
        ));
    } else if read.apps.is_empty() && unread_object.is_none() && policies_gap.is_none() {
        ev.push("External Client Apps: none in this org".into());
    }
    if let Some(u) = unread_object {
        ev.push(format!("External Client Apps: {u}"));
    }
    let refusal =
        |g: &crate::audit::facts::Gap| crate::salesforce::error::cannot_read_setup(&g.failure.code);
    match policies_gap {
        // Only a refused list is about Modify Metadata; a read refused
        // after the list went through, or anything else (a gateway, the
        // quota), is not.
        Some(g) => ev.push(format!(
            "External Client App policies: {} ({}: {}): {}",
            if read.policies_listed {
                "partly read"
            } else {
                "not read"
            },
            g.failure.code,
            g.failure.message.trim().trim_end_matches('.'),
            if read.policies_listed {
                "a readMetadata was refused after listMetadata went through (so Modify Metadata \
                 is held); what was read stands, the refused type's fields are unchecked"
            } else if refusal(g) {
                POLICIES_COST
            } else {
                "the plugin switch, client credentials run-as user and scopes are unchecked \
                 this run; pre-authorization is still read from SetupEntityAccess"
            }
        )),
        None if read.metadata_calls > 0 => ev.push(format!(
            "External Client App policies: read with {} Metadata API call{}{}",
            read.metadata_calls,
            if read.metadata_calls == 1 { "" } else { "s" },
            if read.unread_policies.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} more components past the bound not read",
                    read.unread_policies.len()
                )
            }
        )),
        None => {}
    }
    if let Some(g) = facts.gaps.iter().find(|g| g.object == eca::SCOPES) {
        ev.push(format!(
            "External Client App OAuth settings (scopes): not read ({}: {}): {}",
            g.failure.code,
            g.failure.message.trim().trim_end_matches('.'),
            if refusal(g) {
                SCOPES_COST
            } else {
                "the scopes are unchecked this run; the other policies were read"
            }
        ));
    }
    ev
}

fn app_line(app: &EcaFacts, facts: &Facts) -> String {
    let mut parts: Vec<String> = Vec::new();
    let p = app.policies.as_ref();
    match p.and_then(|p| p.admin_approved) {
        Some(true) => parts.push("admin-approved users only".into()),
        Some(false) => parts.push("all users may self-authorize".into()),
        None => {}
    }
    if !app.preauthorized_via.is_empty() {
        parts.push(format!(
            "pre-authorized via {}",
            app.preauthorized_via.join(", ")
        ));
    } else if facts.user.is_some()
        && (app.has_preauthorizations || p.and_then(|p| p.admin_approved) == Some(true))
    {
        parts.push("user not pre-authorized".into());
    }
    if let Some(p) = p {
        if p.plugins_enabled.is_some() || p.oauth_plugin_enabled.is_some() {
            parts.push(if p.plugin_off() {
                "OAuth plugin off".into()
            } else {
                "OAuth plugin on".into()
            });
        }
        match (p.client_credentials, &p.run_as) {
            (Some(true), Some(r)) => parts.push(format!("client credentials on, run as '{r}'")),
            (Some(true), None) => parts.push("client credentials on, no run-as user".into()),
            (Some(false), _) => parts.push("client credentials off".into()),
            (None, _) => {}
        }
        if let Some(s) = &p.scopes {
            parts.push(format!(
                "scopes {}",
                if s.is_empty() {
                    "none".to_string()
                } else {
                    s.join(", ")
                }
            ));
        }
    } else {
        parts.push("policies not read".into());
    }
    format!(
        "External Client App {}: {}",
        app.describe(),
        parts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::super::tests::{
        api_disabled, diagnose_canned, facts_of, healthy, metadata_refused, now, objects, rec,
        Canned, USER,
    };
    use super::*;
    use crate::audit::access::{EcaSnapshot, OrgSnapshot};
    use crate::audit::facts::{gather, Target};
    use crate::diagnose::reason::reason;
    use crate::diagnose::Flow;
    use crate::salesforce::error::Origin;
    use crate::salesforce::metadata::Record;
    use serde_json::json;

    const PATH: &str =
        "sobjects/ExternalClientApplication/0xR000000000001?fields=Id,DeveloperName,MasterLabel";

    /// The healthy org plus External Client App 'Warehouse Sync',
    /// admin-approved, pre-authorized through 'Stripe Integration Access'
    /// (SetupEntityAccess and its policy list), plugin on, scopes api.
    fn eca_org() -> Canned {
        let mut org = healthy();
        org.records.get_mut("SetupEntityAccess").unwrap().push(rec(
            "SetupEntityAccess",
            "0J0000000000009",
            json!({"ParentId": "0PS000000000002", "SetupEntityId": "0xR000000000001", "SetupEntityType": "ExternalClientApplication"}),
        ));
        org.retrieves.insert(
            PATH.into(),
            json!({"Id": "0xR000000000001", "DeveloperName": "Warehouse_Sync", "MasterLabel": "Warehouse Sync"}),
        );
        org.metadata = Some(vec![
            Record::of(
                "ExtlClntAppOauthConfigurablePolicies",
                &[
                    ("fullName", "Warehouse_Sync_oauthPlcy"),
                    ("externalClientApplication", "Warehouse_Sync"),
                    ("permittedUsersPolicyType", "AdminApprovedPreAuthorized"),
                    ("commaSeparatedPermissionSet", "0PS000000000002"),
                    ("isClientCredentialsFlowEnabled", "false"),
                ],
            ),
            Record::of(
                "ExtlClntAppConfigurablePolicies",
                &[
                    ("fullName", "Warehouse_Sync_plcy"),
                    ("externalClientApplication", "Warehouse_Sync"),
                    ("isEnabled", "true"),
                    ("isOauthPluginEnabled", "true"),
                ],
            ),
            Record::of(
                "ExtlClntAppOauthSettings",
                &[
                    ("fullName", "Warehouse_Sync_oauth"),
                    ("externalClientApplication", "Warehouse_Sync"),
                    ("commaSeparatedOauthScopes", "Api,RefreshToken"),
                ],
            ),
        ]);
        org
    }

    fn policy(org: &mut Canned, t: &str, field: &str, value: &str) {
        let r = org
            .metadata
            .as_mut()
            .unwrap()
            .iter_mut()
            .find(|r| r.metadata_type == t)
            .unwrap();
        r.fields.insert(field.into(), value.into());
    }

    fn unpreauthorize(org: &mut Canned) {
        org.records
            .get_mut("SetupEntityAccess")
            .unwrap()
            .retain(|r| r["Id"] != "0J0000000000009");
        policy(
            org,
            "ExtlClntAppOauthConfigurablePolicies",
            "commaSeparatedPermissionSet",
            "",
        );
    }

    fn app_access() -> Failure {
        Failure::new(
            Origin::OAuth,
            "invalid_app_access",
            "user is not admin approved to access this app",
        )
        .with_status(400)
    }

    /// The failures a policy explains pay for the Metadata API read; an
    /// object, field or password failure does not.
    #[test]
    fn only_failures_a_policy_explains_read_the_policies() {
        let f = |origin, code: &str, message: &str| Failure::new(origin, code, message);
        for yes in [
            app_access(),
            f(
                Origin::OAuth,
                "invalid_client_id",
                "client identifier invalid",
            ),
            f(
                Origin::OAuth,
                "invalid_grant",
                "no client credentials user enabled",
            ),
            f(
                Origin::Rest,
                "API_DISABLED_FOR_ORG",
                "API is not enabled for this Organization or Partner",
            ),
            f(
                Origin::Rest,
                "INVALID_SESSION_ID",
                "This session is not valid for use with the REST API",
            ),
        ] {
            assert!(reads_policies(&yes), "{yes:?}");
        }
        for no in [
            f(
                Origin::Rest,
                "INVALID_TYPE",
                "sObject type 'Invoice__c' is not supported.",
            ),
            f(
                Origin::Rest,
                "INVALID_FIELD",
                "No such column 'Amount' on entity 'Opportunity'",
            ),
            f(Origin::OAuth, "invalid_grant", "authentication failure"),
            f(
                Origin::Rest,
                "INVALID_SESSION_ID",
                "Session expired or invalid",
            ),
        ] {
            assert!(!reads_policies(&no), "{no:?}");
        }
    }

    async fn lock_of(org: &Canned) -> OrgSnapshot {
        OrgSnapshot::from_facts(&facts_of(org).await).unwrap()
    }

    #[tokio::test]
    async fn a_healthy_eca_is_read_and_shown() {
        let org = eca_org();
        let facts = facts_of(&org).await;
        assert_eq!(facts.eca.apps.len(), 1);
        let app = &facts.eca.apps[0];
        assert_eq!(
            (app.api_name.as_str(), app.label.as_str()),
            ("Warehouse_Sync", "Warehouse Sync")
        );
        assert_eq!(
            app.preauthorized_via,
            ["permission set 'Stripe Integration Access'"]
        );
        // Two listMetadata (the policies; the OAuth settings, which take
        // more), one readMetadata per type.
        assert_eq!(facts.eca.metadata_calls, 5);
        assert_eq!(*org.metadata_calls.lock().unwrap(), 5);
        let d = diagnose_canned(&org, &app_access(), None, "62.0").await;
        assert_ne!(d.cause, Cause::EcaNotPreAuthorized, "{d}");
        assert!(
            d.evidence.contains(&"External Client App 'Warehouse Sync' (Warehouse_Sync): admin-approved users only; pre-authorized via permission set 'Stripe Integration Access'; OAuth plugin on; client credentials off; scopes Api, RefreshToken".to_string()),
            "{d}"
        );
        assert!(
            d.evidence
                .iter()
                .any(|e| e == "External Client App policies: read with 5 Metadata API calls"),
            "{d}"
        );
        // smoke.lock records it with its policies.
        let snap = lock_of(&org).await;
        let e = &snap.external_client_apps["Warehouse_Sync"];
        assert_eq!(e.permitted_users.as_deref(), Some("admin_approved"));
        assert_eq!(e.oauth_plugin, Some(true));
        assert_eq!(
            e.scopes.as_deref(),
            Some(&["Api".to_string(), "RefreshToken".to_string()][..])
        );
    }

    #[tokio::test]
    async fn not_pre_authorized_names_the_app_the_policy_and_a_set_to_add() {
        let good = lock_of(&eca_org()).await;
        let mut org = eca_org();
        unpreauthorize(&mut org);
        let d = diagnose_canned(&org, &app_access(), None, "62.0").await;
        assert_eq!(d.cause, Cause::EcaNotPreAuthorized, "{d}");
        // No permission set pre-authorizes it any more, so only its
        // policies name it (by API name).
        assert!(
            d.explanation
                .contains("External Client App 'Warehouse_Sync' admits admin-approved users only"),
            "{d}"
        );
        // Without smoke.lock: a set of the user that grants API Enabled.
        assert!(d.fix.starts_with("pre-authorize permission set 'Salesforce API Integration' (Salesforce_API_Integration) on External Client App 'Warehouse_Sync': Setup > External Client App Manager > Warehouse_Sync > Edit Policies > OAuth Policies > Permitted Users"), "{d}");
        // With it: the set it recorded, and the label it recorded.
        let d = diagnose_canned(&org, &app_access(), Some(&good), "62.0").await;
        assert!(d.fix.starts_with("pre-authorize permission set 'Stripe Integration Access' (Stripe_Integration_Access) on External Client App 'Warehouse Sync': Setup > External Client App Manager > Warehouse Sync > Edit Policies"), "{d}");
        assert!(d.explanation.contains("smoke.lock recorded it pre-authorized via permission set 'Stripe Integration Access'"), "{d}");
        // Drift names the change.
        let now = lock_of(&org).await;
        let lines: Vec<String> = crate::snapshot::compare(&good, &now)
            .into_iter()
            .map(|d| d.line)
            .collect();
        assert!(lines.contains(&"no longer pre-authorized for External Client App 'Warehouse Sync' (smoke.lock: via permission set 'Stripe Integration Access')".to_string()), "{lines:?}");
    }

    #[tokio::test]
    async fn without_modify_metadata_it_says_what_it_still_knows() {
        let good = lock_of(&eca_org()).await;
        let mut org = eca_org();
        org.metadata = None;
        // Another set is pre-authorized; none of the user's.
        let row = &mut org.records.get_mut("SetupEntityAccess").unwrap()[1];
        row["ParentId"] = json!("0PS000000000099");
        let facts = facts_of(&org).await;
        assert_eq!(facts.eca.metadata_calls, 1, "one try");
        assert!(facts.gap(eca::POLICIES));
        let d = reason(&facts, &app_access(), None, "62.0", Flow::password(true));
        assert_eq!(d.cause, Cause::EcaNotPreAuthorized, "{d}");
        assert!(
            d.explanation
                .contains("its policies could not be read to confirm it"),
            "{d}"
        );
        assert!(
            d.evidence.iter().any(|e| e
                .starts_with("External Client App policies: not read (INSUFFICIENT_ACCESS:")
                && e.contains("\"Modify All Data\"")
                && e.contains("pre-authorization is still read from SetupEntityAccess")),
            "{d}"
        );
        // The policies not read now are not drift (one line says they went
        // unchecked); the lost pre-authorization is.
        let now = OrgSnapshot::from_facts(&facts).unwrap();
        let lines = drift_lines(&good, &now);
        assert_eq!(lines[0], "no longer pre-authorized for External Client App 'Warehouse Sync' (smoke.lock: via permission set 'Stripe Integration Access')");
        assert!(lines[1].starts_with("External Client App policies not checked: the Metadata API could not be read (INSUFFICIENT_ACCESS: "), "{lines:?}");
        assert_eq!(lines.len(), 2, "{lines:?}");
        let _ = metadata_refused();
    }

    #[tokio::test]
    async fn plugin_off_explains_an_invalid_client_id() {
        let good = lock_of(&eca_org()).await;
        let mut org = eca_org();
        policy(
            &mut org,
            "ExtlClntAppConfigurablePolicies",
            "isOauthPluginEnabled",
            "false",
        );
        let f = Failure::new(
            Origin::OAuth,
            "invalid_client_id",
            "client identifier invalid",
        )
        .with_status(400);
        let d = diagnose_canned(&org, &f, None, "62.0").await;
        assert_eq!(d.cause, Cause::EcaPluginOff, "{d}");
        assert!(
            d.explanation
                .contains("its OAuth plugin is off (isOauthPluginEnabled = false)"),
            "{d}"
        );
        assert!(
            d.fix
                .starts_with("switch the OAuth plugin on for External Client App 'Warehouse Sync'"),
            "{d}"
        );
        let lines: Vec<String> = crate::snapshot::compare(&good, &lock_of(&org).await)
            .into_iter()
            .map(|d| d.line)
            .collect();
        assert_eq!(
            lines,
            ["External Client App 'Warehouse Sync': OAuth plugin switched off"]
        );
    }

    /// The finding names its apps by API name: an app labelled 'Sync'
    /// is not implicated by a finding about 'Sync' (Sync_Old), whose
    /// explanation contains its label.
    #[tokio::test]
    async fn the_trail_shows_the_implicated_app_only_not_one_whose_label_it_contains() {
        let mut facts = facts_of(&eca_org()).await;
        let app = |api: &str, plugin_on: bool| {
            let mut a = facts.eca.apps[0].clone();
            a.api_name = api.into();
            a.label = "Sync".into();
            let p = a.policies.as_mut().expect("read");
            p.oauth_plugin_enabled = Some(plugin_on);
            p.components = vec![format!("{api}_oauthPlcy"), format!("{api}_plcy")];
            a
        };
        facts.eca.apps = vec![app("Sync", true), app("Sync_Old", false)];
        let f = Failure::new(
            Origin::OAuth,
            "invalid_client_id",
            "client identifier invalid",
        )
        .with_status(400);
        let found = finding(&facts, &f, Family::of(&f), None).expect("a finding");
        assert!(
            found.explanation.contains("'Sync' (Sync_Old)"),
            "{}",
            found.explanation
        );
        assert_eq!(found.apps, ["Sync_Old"]);
        let names = trail_names(&facts, None, &found.apps);
        // Its label ('Sync') is a name the trail may use; the other app's
        // components are not.
        assert!(names.contains(&"Sync_Old_plcy".to_string()), "{names:?}");
        assert!(
            !names
                .iter()
                .any(|n| n == "Sync_oauthPlcy" || n == "Sync_plcy"),
            "{names:?}"
        );
    }

    #[tokio::test]
    async fn client_credentials_off_or_run_as_changed() {
        // The flow names no user: the audit looks at the org's apps.
        let mut org = eca_org();
        policy(
            &mut org,
            "ExtlClntAppOauthConfigurablePolicies",
            "isClientCredentialsFlowEnabled",
            "true",
        );
        policy(
            &mut org,
            "ExtlClntAppOauthConfigurablePolicies",
            "clientCredentialsFlowUser",
            USER,
        );
        let good = lock_of(&org).await;
        assert_eq!(
            good.external_client_apps["Warehouse_Sync"]
                .run_as
                .as_deref(),
            Some(USER)
        );
        policy(
            &mut org,
            "ExtlClntAppOauthConfigurablePolicies",
            "isClientCredentialsFlowEnabled",
            "false",
        );
        let f = Failure::new(
            Origin::OAuth,
            "invalid_grant",
            "no client credentials user enabled",
        )
        .with_status(400);
        let facts = gather(&org, &Target::default(), &objects(), true, now()).await;
        let d = reason(&facts, &f, Some(&good), "62.0", Flow::password(true));
        assert_eq!(d.cause, Cause::EcaClientCredentials, "{d}");
        assert!(
            d.explanation
                .contains("has the client credentials flow disabled"),
            "{d}"
        );
        assert!(d.fix.contains("Edit Policies > OAuth Policies > Enable Client Credentials Flow, with Run As set to 'int@acme.example' (the user the policy names now)"), "{d}");
        // Run-as user changed to one without API access: named before the
        // new user's missing API Enabled.
        let mut org2 = eca_org();
        policy(
            &mut org2,
            "ExtlClntAppOauthConfigurablePolicies",
            "isClientCredentialsFlowEnabled",
            "true",
        );
        policy(
            &mut org2,
            "ExtlClntAppOauthConfigurablePolicies",
            "clientCredentialsFlowUser",
            "other@acme.example",
        );
        let d = diagnose_canned(&org2, &api_disabled(), Some(&good), "62.0").await;
        assert_eq!(d.cause, Cause::EcaClientCredentials, "{d}");
        assert!(
            d.explanation.contains(
                "run-as user changed from 'int@acme.example' (smoke.lock) to 'other@acme.example'"
            ),
            "{d}"
        );
        assert!(
            d.fix.starts_with("set Run As back to 'int@acme.example'"),
            "{d}"
        );
    }

    /// A client credentials login now runs as another user than
    /// smoke.lock's, and the policies were not read (a read-only auditor):
    /// the fix leads with setting Run As back, not with granting the new
    /// user API access (which would only lead to its next missing grant).
    #[tokio::test]
    async fn a_changed_user_of_a_flow_that_names_none_leads_with_run_as_back() {
        let org = eca_org();
        let mut good = lock_of(&org).await;
        good.username = "integration@acme.example".into();
        let mut broken = eca_org();
        broken.metadata = None;
        broken
            .records
            .get_mut("PermissionSetAssignment")
            .unwrap()
            .clear();
        let id = Target {
            username: None,
            user_id: Some("005000000000001".into()),
        };
        let facts = gather(&broken, &id, &objects(), true, now()).await;
        assert!(facts.gap(eca::POLICIES));
        let d = reason(
            &facts,
            &api_disabled(),
            Some(&good),
            "62.0",
            Flow {
                uses_connected_app: true,
                password: false,
            },
        );
        assert_eq!(d.cause, Cause::PermissionSetLost, "{d}");
        assert!(
            d.fix.starts_with(
                "set the app's Run As back to 'integration@acme.example' (Setup > External Client \
                 App Manager > the app > Edit Policies > OAuth Policies > Run As"
            ),
            "{d}"
        );
        assert!(
            d.fix.contains(&format!("only to keep '{USER}': assign")),
            "{d}"
        );
        assert!(
            d.explanation.contains(&format!(
                "the flow now runs as '{USER}', smoke.lock recorded 'integration@acme.example'"
            )),
            "{d}"
        );
        // The same user as recorded, or a flow that names its user: no
        // Run As advice.
        let same = lock_of(&org).await;
        let d = reason(
            &facts,
            &api_disabled(),
            Some(&same),
            "62.0",
            Flow {
                uses_connected_app: true,
                password: false,
            },
        );
        assert!(!d.fix.contains("Run As"), "{d}");
        let named = gather(
            &broken,
            &super::super::tests::target(),
            &objects(),
            true,
            now(),
        )
        .await;
        let d = reason(
            &named,
            &api_disabled(),
            Some(&good),
            "62.0",
            Flow {
                uses_connected_app: true,
                password: false,
            },
        );
        assert!(!d.fix.contains("Run As back"), "{d}");
    }

    /// `clientCredentialsFlowUser` may hold the user's Id instead of its
    /// username: the same user either way.
    #[tokio::test]
    async fn the_run_as_user_may_be_named_by_its_id() {
        let mut org = eca_org();
        unpreauthorize(&mut org);
        let t = "ExtlClntAppOauthConfigurablePolicies";
        policy(&mut org, t, "isClientCredentialsFlowEnabled", "true");
        policy(
            &mut org,
            t,
            "clientCredentialsFlowUser",
            "005000000000001AAA",
        );
        // Recorded: the app runs as this user (named by its 18-char Id).
        let good = lock_of(&org).await;
        let mut by_name = good.clone();
        by_name
            .external_client_apps
            .get_mut("Warehouse_Sync")
            .expect("the app running as the user is recorded")
            .run_as = Some(USER.into());
        // smoke.lock named the user, the policy now its Id: no change.
        let d = diagnose_canned(&org, &api_disabled(), Some(&by_name), "62.0").await;
        assert!(!d.explanation.contains("run-as user changed"), "{d}");
        assert_ne!(d.cause, Cause::EcaClientCredentials, "{d}");
        let user = facts_of(&org).await.user.unwrap();
        assert!(eca::names_user("005000000000001", &user));
        assert!(!eca::names_user("005000000000002AAA", &user));
        assert!(eca::same_run_as(USER, "005000000000001AAA", Some(&user)));
        assert!(!eca::same_run_as(USER, "other@acme.example", Some(&user)));
    }

    #[tokio::test]
    async fn scopes_without_api_explain_a_session_the_rest_api_refuses() {
        let mut org = eca_org();
        policy(
            &mut org,
            "ExtlClntAppOauthSettings",
            "commaSeparatedOauthScopes",
            "RefreshToken",
        );
        let f = Failure::new(
            Origin::Rest,
            "INVALID_SESSION_ID",
            "This session is not valid for use with the REST API",
        )
        .with_status(401);
        assert!(crate::diagnose::applies_to(&f));
        let d = diagnose_canned(&org, &f, None, "62.0").await;
        assert_eq!(d.cause, Cause::EcaScopeWithoutApi, "{d}");
        assert!(d.fix.contains("\"Manage user data via APIs (api)\""), "{d}");
    }

    #[tokio::test]
    async fn several_candidates_are_listed_not_guessed() {
        let mut org = eca_org();
        policy(
            &mut org,
            "ExtlClntAppConfigurablePolicies",
            "isEnabled",
            "false",
        );
        let mut more = org.metadata.clone().unwrap();
        more.push(Record::of(
            "ExtlClntAppConfigurablePolicies",
            &[
                ("fullName", "Billing_Bridge_plcy"),
                ("externalClientApplication", "Billing_Bridge"),
                ("isEnabled", "true"),
                ("isOauthPluginEnabled", "false"),
            ],
        ));
        org.metadata = Some(more);
        // Nothing ties either to the user: no set, no smoke.lock.
        org.records
            .get_mut("SetupEntityAccess")
            .unwrap()
            .retain(|r| r["Id"] != "0J0000000000009");
        policy(
            &mut org,
            "ExtlClntAppOauthConfigurablePolicies",
            "commaSeparatedPermissionSet",
            "",
        );
        let f = Failure::new(
            Origin::OAuth,
            "invalid_client_id",
            "client identifier invalid",
        )
        .with_status(400);
        let d = diagnose_canned(&org, &f, None, "62.0").await;
        assert_eq!(d.cause, Cause::EcaPluginOff, "{d}");
        assert!(d.explanation.starts_with("2 External Client Apps show this sign and nothing tells which one serves the integration"), "{d}");
        assert!(
            d.fix
                .contains("if it is External Client App 'Billing_Bridge'")
                && d.fix
                    .contains("if it is External Client App 'Warehouse_Sync'"),
            "{d}"
        );
    }

    /// The flow names no user and there is no smoke.lock: of the apps with
    /// the flow off, the one set up for it (a run-as user) is named, not the
    /// JWT app that never had it.
    #[tokio::test]
    async fn the_app_set_up_for_client_credentials_is_the_candidate() {
        let mut org = eca_org();
        let mut more = org.metadata.clone().unwrap();
        more.push(Record::of(
            "ExtlClntAppOauthConfigurablePolicies",
            &[
                ("fullName", "Nightly_Export_oauthPlcy"),
                ("externalClientApplication", "Nightly_Export"),
                ("permittedUsersPolicyType", "AdminApprovedPreAuthorized"),
                ("isClientCredentialsFlowEnabled", "false"),
                ("clientCredentialsFlowUser", USER),
            ],
        ));
        more.push(Record::of(
            "ExternalClientApplication",
            &[("fullName", "Nightly_Export"), ("label", "Nightly Export")],
        ));
        org.metadata = Some(more);
        let f = Failure::new(
            Origin::OAuth,
            "invalid_grant",
            "no client credentials user enabled",
        )
        .with_status(400);
        let facts = gather(&org, &Target::default(), &objects(), true, now()).await;
        let d = reason(&facts, &f, None, "62.0", Flow::password(true));
        assert_eq!(d.cause, Cause::EcaClientCredentials, "{d}");
        assert!(d.explanation.starts_with("External Client App 'Nightly Export' (Nightly_Export) has the client credentials flow disabled"), "{d}");
        assert!(!d.explanation.contains("Warehouse"), "{d}");
        // One more Metadata API call read the label of the app no
        // permission set pre-authorizes: the worst case, every call
        // eca::MAX_METADATA_CALLS allows, as the server counted them.
        assert_eq!(facts.eca.metadata_calls, eca::MAX_METADATA_CALLS);
        let sent = *org.metadata_calls.lock().unwrap();
        assert_eq!(sent, eca::MAX_METADATA_CALLS);
    }

    /// A policy read that failed for another reason than a missing
    /// permission does not send anyone to grant Modify Metadata.
    #[tokio::test]
    async fn a_failed_policy_read_is_not_called_a_missing_permission() {
        let mut org = eca_org();
        org.metadata = None;
        let mut facts = facts_of(&org).await;
        for g in facts.gaps.iter_mut().filter(|g| g.object == eca::POLICIES) {
            g.failure = Failure::new(
                Origin::Rest,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
            );
        }
        let d = reason(&facts, &app_access(), None, "62.0", Flow::password(true));
        let line = d
            .evidence
            .iter()
            .find(|e| e.starts_with("External Client App policies"))
            .expect("line");
        assert!(!line.contains("Modify"), "{line}");
        assert!(line.contains("unchecked this run"), "{line}");
    }

    /// A read-only auditor (no Modify Metadata) and a failure that points
    /// at an External Client App (plugin off, scopes without api): the
    /// cause is "not confirmed", the app check leads the fix, and a JWT,
    /// client credentials or access token login is never sent to its
    /// password and security token.
    #[tokio::test]
    async fn unread_policies_lead_with_the_app_check_and_no_password_for_a_keyless_flow() {
        let mut org = eca_org();
        org.metadata = None;
        let facts = facts_of(&org).await;
        assert!(facts.gap(eca::POLICIES));
        let plugin = Failure::new(
            Origin::OAuth,
            "invalid_client_id",
            "client identifier invalid",
        )
        .with_status(400);
        let scope = Failure::new(
            Origin::Rest,
            "INVALID_SESSION_ID",
            "This session is not valid for use with the REST API",
        )
        .with_status(401);
        let jwt = Flow {
            uses_connected_app: true,
            password: false,
        };
        for (f, what) in [
            (&plugin, "that its OAuth plugin is on"),
            (&scope, "that its scopes include api"),
        ] {
            let d = reason(&facts, f, None, "62.0", jwt);
            assert_eq!(d.cause, Cause::EcaUnread, "{d}");
            assert!(d.to_string().starts_with(
                "diagnosis: cause not confirmed: External Client App policies unreadable (needs Modify Metadata)"
            ), "{d}");
            assert!(
                d.fix.starts_with(&format!(
                    "if the integration logs in through an External Client App, check {what} by hand"
                )),
                "{d}"
            );
            assert!(!d.to_string().contains("no known cause holds"), "{d}");
            assert!(!d.fix.contains("password"), "{d}");
        }
        // A password login keeps its password among the other causes.
        let d = reason(&facts, &plugin, None, "62.0", Flow::password(true));
        assert_eq!(d.cause, Cause::EcaUnread, "{d}");
        assert!(d.fix.contains("the password and security token"), "{d}");
        // Policies read, nothing found: a credentials failure of a JWT login
        // names no password either.
        let read = facts_of(&eca_org()).await;
        let bad_client = Failure::new(
            Origin::OAuth,
            "invalid_client",
            "invalid client credentials",
        )
        .with_status(400);
        let d = reason(&read, &bad_client, None, "62.0", jwt);
        assert!(!d.fix.contains("password"), "{d}");
        let d = reason(&read, &bad_client, None, "62.0", Flow::password(true));
        assert!(d.fix.contains("password"), "{d}");
    }

    /// An auditor with Modify Metadata refused ExtlClntAppOauthSettings
    /// only (no "consumer secrets via Metadata API" setting or permission):
    /// the other policies are read and diagnosed, the scopes are unknown,
    /// and the hint names what the settings take, not Modify Metadata.
    #[tokio::test]
    async fn refused_oauth_settings_leave_the_policies_read() {
        let mut org = eca_org();
        org.list_refused = vec![eca::OAUTH_SETTINGS];
        org.read_refused = vec![eca::OAUTH_SETTINGS];
        policy(
            &mut org,
            "ExtlClntAppConfigurablePolicies",
            "isOauthPluginEnabled",
            "false",
        );
        let facts = facts_of(&org).await;
        assert!(facts.gap(eca::SCOPES) && !facts.gap(eca::POLICIES));
        let p = facts.eca.apps[0].policies.as_ref().expect("policies read");
        assert_eq!((p.admin_approved, p.scopes.as_ref()), (Some(true), None));
        let f = Failure::new(
            Origin::OAuth,
            "invalid_client_id",
            "client identifier invalid",
        )
        .with_status(400);
        let d = reason(&facts, &f, None, "62.0", Flow::password(true));
        assert_eq!(d.cause, Cause::EcaPluginOff, "{d}");
        let line = d
            .evidence
            .iter()
            .find(|e| {
                e.starts_with(
                    "External Client App OAuth settings (scopes): not read (INSUFFICIENT_ACCESS",
                )
            })
            .unwrap_or_else(|| panic!("{d}"));
        assert!(line.contains(SCOPES_COST), "{line}");
        assert!(
            !d.to_string().contains("Modify All Data"),
            "the auditor holds Modify Metadata: {d}"
        );
        // A session the REST API refuses: the scopes are checked by hand.
        let scope = Failure::new(
            Origin::Rest,
            "INVALID_SESSION_ID",
            "This session is not valid for use with the REST API",
        )
        .with_status(401);
        let d = reason(&facts, &scope, None, "62.0", Flow::password(true));
        assert_ne!(d.cause, Cause::EcaScopeWithoutApi, "{d}");
        assert!(
            d.to_string()
                .contains("External Client Apps' scopes could not be read (see evidence)"),
            "{d}"
        );
    }

    /// One readMetadata refused after the list went through: what the
    /// others read stands, and nobody is sent to grant Modify Metadata.
    #[tokio::test]
    async fn a_refused_read_keeps_what_was_read() {
        let mut org = eca_org();
        org.read_refused = vec!["ExtlClntAppConfigurablePolicies"];
        let facts = facts_of(&org).await;
        assert!(facts.gap(eca::POLICIES) && facts.eca.policies_listed);
        let p = facts.eca.apps[0].policies.as_ref().expect("policies kept");
        assert_eq!(p.admin_approved, Some(true));
        assert_eq!(
            p.scopes.as_deref(),
            Some(&["Api".to_string(), "RefreshToken".to_string()][..])
        );
        assert_eq!(p.oauth_plugin_enabled, None);
        let d = reason(&facts, &app_access(), None, "62.0", Flow::password(true));
        let line = d
            .evidence
            .iter()
            .find(|e| {
                e.starts_with("External Client App policies: partly read (INSUFFICIENT_ACCESS")
            })
            .unwrap_or_else(|| panic!("{d}"));
        assert!(!line.contains(POLICIES_COST), "{line}");
        assert!(line.contains("what was read stands"), "{line}");
    }

    /// Below API 60.0 part of the reading does not exist (below 59.0 none
    /// of it): nothing is sent for it, one evidence line says why, and no
    /// app is claimed absent or not pre-authorized.
    #[tokio::test]
    async fn an_api_version_older_than_the_types_reads_none_of_them() {
        let mut org = eca_org();
        unpreauthorize(&mut org);
        org.api_version = Some("58.0".into());
        let facts = facts_of(&org).await;
        assert_eq!(*org.metadata_calls.lock().unwrap(), 0);
        assert_eq!(facts.eca.metadata_calls, 0);
        assert!(facts.eca.apps.is_empty());
        assert!(facts.gap(eca::OBJECT) && facts.gap(eca::POLICIES));
        // Its own code: CONFIG_ERROR means an unusable config (exit 2).
        assert!(
            facts
                .gaps
                .iter()
                .filter(|g| g.object == eca::OBJECT || g.object == eca::POLICIES)
                .all(|g| g.failure.code == crate::codes::VERSION_TOO_OLD),
            "{:?}",
            facts.gaps
        );
        let d = reason(&facts, &app_access(), None, "58.0", Flow::password(true));
        assert_ne!(d.cause, Cause::EcaNotPreAuthorized, "{d}");
        let lines: Vec<&String> = d
            .evidence
            .iter()
            .filter(|e| e.starts_with("External Client App"))
            .collect();
        assert_eq!(lines.len(), 1, "{d}");
        assert!(
            lines[0].starts_with("External Client Apps: read at API v58.0, older than they need")
                && lines[0].contains("pre-authorizations and every policy are unchecked"),
            "{d}"
        );
        // 59.0: the OAuth policies and settings (2 lists, 2 reads) and the
        // label, not the plugin policies.
        org.api_version = Some("59.0".into());
        let facts = facts_of(&org).await;
        assert_eq!(facts.eca.metadata_calls, 5);
        let p = facts.eca.apps[0].policies.as_ref().expect("read");
        assert_eq!(p.admin_approved, Some(true));
        assert_eq!(p.oauth_plugin_enabled, None);
        let d = reason(&facts, &app_access(), None, "59.0", Flow::password(true));
        assert!(
            d.evidence.iter().any(|e| e.contains("read at API v59.0")
                && e.contains("the plugin switch and the client credentials flow are unchecked")),
            "{d}"
        );
        // Versions from 60.0 read everything.
        org.api_version = Some("60.0".into());
        let facts = facts_of(&org).await;
        assert!(facts.eca.too_old.is_none() && !facts.gap(eca::POLICIES));
    }

    /// The REST retrieve of the app's name refused: the app is one app,
    /// named by the id listMetadata gives, or else by the one set of
    /// policies that fits; never twice (once pre-authorized, once not).
    #[tokio::test]
    async fn an_app_whose_retrieve_fails_is_still_one_app() {
        let mut org = eca_org();
        org.retrieves.clear();
        let mut listed = org.clone_metadata();
        listed.push(Record::of(
            "ExternalClientApplication",
            &[
                ("fullName", "Warehouse_Sync"),
                ("id", "0xR000000000001AAA"),
                ("label", "Warehouse Sync"),
            ],
        ));
        let mut by_list = eca_org();
        by_list.retrieves.clear();
        by_list.metadata = Some(listed);
        for (org, how) in [(&by_list, "by the list's id"), (&org, "by the one fit")] {
            let facts = facts_of(org).await;
            assert!(facts.gap(eca::OBJECT), "{how}: the retrieve failed");
            assert_eq!(facts.eca.apps.len(), 1, "{how}: {:?}", facts.eca.apps);
            let app = &facts.eca.apps[0];
            assert_eq!(app.api_name, "Warehouse_Sync", "{how}");
            assert_eq!(app.id.as_deref(), Some("0xR000000000001"), "{how}");
            assert_eq!(
                app.preauthorized_via,
                ["permission set 'Stripe Integration Access'"],
                "{how}"
            );
            assert!(app.policies.is_some(), "{how}");
        }
        // Two sets of policies that both fit: both stay, none is guessed.
        let mut two = eca_org();
        two.retrieves.clear();
        let mut more = two.clone_metadata();
        more.push(Record::of(
            "ExtlClntAppOauthConfigurablePolicies",
            &[
                ("fullName", "Other_oauthPlcy"),
                ("externalClientApplication", "Other"),
                ("permittedUsersPolicyType", "AdminApprovedPreAuthorized"),
                ("commaSeparatedPermissionSet", "0PS000000000002"),
            ],
        ));
        two.metadata = Some(more);
        let facts = facts_of(&two).await;
        assert_eq!(facts.eca.apps.len(), 3, "{:?}", facts.eca.apps);
    }

    /// A Connected App org reads as before, whether or not the reader may
    /// use the Metadata API.
    #[tokio::test]
    async fn a_connected_app_org_diagnoses_as_before() {
        let mut refused = healthy();
        refused.metadata = None;
        let a = diagnose_canned(&healthy(), &api_disabled(), None, "62.0").await;
        let b = diagnose_canned(&refused, &api_disabled(), None, "62.0").await;
        assert_eq!(a.to_string(), b.to_string());
        for r in [&healthy(), &refused] {
            let d = diagnose_canned(r, &app_access(), None, "62.0").await;
            assert!(
                !d.evidence.iter().any(|e| e.contains("External Client App")),
                "{d}"
            );
        }
        let snap = lock_of(&refused).await;
        assert!(snap.external_client_apps.is_empty());
        let text = crate::snapshot::render_lock(&crate::snapshot::Snapshot {
            version: crate::snapshot::FORMAT_VERSION,
            orgs: [("prod".to_string(), snap)].into(),
        });
        assert!(!text.contains("external_client_apps"), "{text}");
        let _ = EcaSnapshot::default();
    }

    fn drift_lines(good: &OrgSnapshot, now: &OrgSnapshot) -> Vec<String> {
        crate::snapshot::compare(good, now)
            .into_iter()
            .map(|d| d.line)
            .collect()
    }

    /// The auditor's SetupEntityAccess query fails (refused, or a fault)
    /// while everything else is read: the snapshot marks both kinds of
    /// app's pre-authorizations unread instead of "none", so the drift
    /// check claims none lost and says in one line each what went
    /// unchecked and why; the case passes.
    #[tokio::test]
    async fn unread_setup_entity_access_is_unchecked_not_lost() {
        let good = lock_of(&eca_org()).await;
        assert_eq!(good.preauthorized_apps, ["sfsmoke CI"]);
        assert!(good.external_client_apps.contains_key("Warehouse_Sync"));
        let mut org = eca_org();
        org.refuse.push("SetupEntityAccess");
        // Nor can the policies be read: nothing else names the app.
        org.metadata = None;
        let now = OrgSnapshot::from_facts(&facts_of(&org).await).unwrap();
        assert!(now.external_client_apps.is_empty() && now.preauthorized_apps.is_empty());
        let lines = drift_lines(&good, &now);
        assert!(
            lines.iter().all(|l| !l.contains("pre-authorized for")),
            "{lines:?}"
        );
        let refused = "SetupEntityAccess could not be read (INVALID_TYPE: sObject type \
                       'SetupEntityAccess' is not supported; needs View Setup and Configuration)";
        assert_eq!(
            lines[..2],
            [
                format!("Connected App pre-authorizations not checked: {refused}"),
                format!("External Client App pre-authorizations not checked: {refused}"),
            ]
        );
        assert!(
            lines[2].starts_with("External Client App policies not checked: the Metadata API could not be read (INSUFFICIENT_ACCESS: "),
            "{lines:?}"
        );
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(matches!(
            crate::snapshot::drift_outcome("prod", &good, &now),
            crate::report::Outcome::Passed { .. }
        ));
    }

    /// Read at an API version older than 60.0 (an org serving nothing
    /// newer): no SetupEntityAccess rows of External Client Apps exist
    /// there, so their pre-authorizations are unchecked, not lost; with
    /// the OAuth policies readable (59.0) the app is still compared on
    /// what was read.
    #[tokio::test]
    async fn below_60_the_apps_are_unchecked_not_lost() {
        let good = lock_of(&eca_org()).await;
        for metadata in [false, true] {
            let mut org = eca_org();
            org.api_version = Some("59.0".into());
            if !metadata {
                org.metadata = None;
            }
            let now = OrgSnapshot::from_facts(&facts_of(&org).await).unwrap();
            let lines = drift_lines(&good, &now);
            assert!(
                lines.iter().all(|l| !l.contains("pre-authorized for")),
                "{lines:?}"
            );
            assert_eq!(
                lines[0],
                "External Client App pre-authorizations not checked: not sent at API v59.0: SetupEntityAccess rows of External Client Apps exist from 60.0"
            );
            assert_eq!(lines.len(), 2, "{lines:?}");
            // The Connected App's rows exist at 59.0: still compared.
            assert_eq!(now.preauthorized_apps, ["sfsmoke CI"]);
            if metadata {
                let e = &now.external_client_apps["Warehouse_Sync"];
                assert_eq!(e.permitted_users.as_deref(), Some("admin_approved"));
                assert_eq!(e.oauth_plugin, None, "not served at 59.0");
            }
        }
    }

    /// The app's name retrieve fails (and the Metadata API, which could
    /// name it, is refused): it is keyed by its id now, and still the app
    /// smoke.lock recorded with that id: no false "no longer" / "newly"
    /// pair.
    #[tokio::test]
    async fn an_app_whose_name_cannot_be_retrieved_is_the_recorded_one() {
        let good = lock_of(&eca_org()).await;
        let mut org = eca_org();
        org.retrieves.clear();
        org.metadata = None;
        let facts = facts_of(&org).await;
        assert!(facts.gap(eca::OBJECT));
        let now = OrgSnapshot::from_facts(&facts).unwrap();
        assert!(now.external_client_apps.contains_key("0xR000000000001"));
        let lines = drift_lines(&good, &now);
        assert!(
            lines.iter().all(|l| !l.contains("pre-authorized for")),
            "{lines:?}"
        );
    }
}
