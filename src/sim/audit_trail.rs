//! The Setup Audit Trail of the simulated org: every state change made
//! through `SimHandle::update` or the admin API becomes `SetupAuditTrail`
//! entries, by the acting admin ([`Actor`]), worded as Salesforce's Setup
//! pages word them. The healthy org also carries unrelated entries (noise),
//! as a real org does, so a reader must pick the entries that matter by the
//! names they mention.
//!
//! Salesforce documents the fields (Action, Section, Display, CreatedDate,
//! CreatedBy, DelegateUser) but not every Action code; the codes and texts
//! here follow the documented example (`PermSetCreate`, "Created permission
//! set MAD: with user license Salesforce.") and what admins see in Setup >
//! View Setup Audit Trail. Nothing reading the trail may rely on them.

use crate::sim::model::{AuditEntry, EcaPermittedUsers, Org, PermittedUsers, User};
use chrono::{DateTime, Duration, Utc};

/// Who makes the changes, and when relative to the sim's clock.
#[derive(Clone, Debug)]
pub struct Actor {
    /// The admin's username (`CreatedBy`); should be a user of the org.
    pub username: String,
    /// Set when another admin logged in as this one (`DelegateUser`).
    pub delegate: Option<String>,
    /// Entries are dated this long before the change is made.
    pub ago: Duration,
}

impl Default for Actor {
    fn default() -> Self {
        Actor {
            username: ADMIN.into(),
            delegate: None,
            ago: Duration::zero(),
        }
    }
}

/// The healthy org's admin (Ada Admin).
pub const ADMIN: &str = "admin@acme.example";

/// `(Action, Section, Display)` for each difference between `before` and
/// `after` that an admin makes in Setup.
pub fn changes(before: &Org, after: &Org) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut push = |action: &str, section: &str, display: String| {
        out.push((action.to_string(), section.to_string(), display));
    };
    let who = |u: &User| format!("{} ({})", u.full_name(), u.username);
    for p in &after.profiles {
        if let Some(old) = before.profile(&p.name) {
            if old.permissions.api_enabled != p.permissions.api_enabled {
                let (from, to) = on_off(old.permissions.api_enabled);
                push(
                    "profileSystemPermChanged",
                    "Manage Users",
                    format!(
                        "Changed profile {}: API Enabled was changed from {from} to {to}",
                        p.name
                    ),
                );
            }
        }
    }
    for ps in &before.permission_sets {
        match after.permission_set(&ps.name) {
            None => push(
                "PermSetDelete",
                "Manage Users",
                format!("Deleted permission set {}", ps.label),
            ),
            Some(now) => {
                if ps.permissions.api_enabled != now.permissions.api_enabled {
                    let verb = if now.permissions.api_enabled {
                        "enabled"
                    } else {
                        "disabled"
                    };
                    push(
                        "PermSetEnableUserPerm",
                        "Manage Users",
                        format!(
                            "Permission set {}: {verb} user permission API Enabled",
                            ps.label
                        ),
                    );
                }
                for (o, a) in &ps.objects {
                    let still = now.objects.get(o).is_some_and(|n| n.read);
                    if a.read && !still {
                        push(
                            "PermSetEntityPermChanged",
                            "Manage Users",
                            format!("Permission set {}: object {o}: Read was removed", ps.label),
                        );
                    }
                }
                for (key, a) in &ps.fields {
                    let still = now.fields.get(key).is_some_and(|n| n.read);
                    if a.read && !still {
                        let (object, field) = key.split_once('.').unwrap_or((key, ""));
                        let was = if a.edit { "Read/Write" } else { "Read Only" };
                        push(
                            "PermSetFieldPermChanged",
                            "Manage Users",
                            format!(
                                "Permission set {}: field-level security for {object}: {field} \
                                 was changed from {was} to No Access",
                                ps.label
                            ),
                        );
                    }
                }
            }
        }
    }
    for u in &after.users {
        let Some(old) = before.user(&u.username) else {
            push(
                "newuser",
                "Manage Users",
                format!("Created new user {}", who(u)),
            );
            continue;
        };
        if old.active && !u.active {
            push(
                "deactivateduser",
                "Manage Users",
                format!("Deactivated user {}", who(u)),
            );
        }
        if old.profile != u.profile {
            push(
                "changedprofileforuser",
                "Manage Users",
                format!(
                    "Changed profile for user {} from {} to {}",
                    who(u),
                    old.profile,
                    u.profile
                ),
            );
        }
        let label =
            |org: &Org, a: &crate::sim::model::Assignment| match (&a.permission_set, &a.group) {
                (Some(ps), _) => (
                    "Permission set",
                    org.permission_set(ps)
                        .map(|p| p.label.clone())
                        .unwrap_or(ps.clone()),
                ),
                (None, Some(g)) => (
                    "Permission set group",
                    org.group(g).map(|g| g.label.clone()).unwrap_or(g.clone()),
                ),
                (None, None) => ("Permission set", String::new()),
            };
        for a in old
            .assignments
            .iter()
            .filter(|a| !u.assignments.contains(a))
        {
            let same_target = |b: &&crate::sim::model::Assignment| {
                b.permission_set == a.permission_set && b.group == a.group
            };
            let (kind, name) = label(before, a);
            if u.assignments.iter().any(|b| same_target(&b)) {
                push(
                    "PermSetAssignmentChanged",
                    "Manage Users",
                    format!("{kind} {name}: assignment for user {} was changed", who(u)),
                );
            } else {
                push(
                    "PermSetUnassign",
                    "Manage Users",
                    format!("{kind} {name}: unassigned from user {}", who(u)),
                );
            }
        }
        for a in u.assignments.iter().filter(|a| {
            !old.assignments
                .iter()
                .any(|b| b.permission_set == a.permission_set && b.group == a.group)
        }) {
            let (kind, name) = label(after, a);
            push(
                "PermSetAssign",
                "Manage Users",
                format!("{kind} {name}: assigned to user {}", who(u)),
            );
        }
    }
    for app in &after.connected_apps {
        let Some(old) = before.connected_apps.iter().find(|a| a.name == app.name) else {
            continue;
        };
        if old.permitted_users != app.permitted_users {
            push(
                "connectedAppPolicyChanged",
                "Connected Apps",
                format!(
                    "Changed Permitted Users for connected app {} from {} to {}",
                    app.name,
                    policy(old.permitted_users),
                    policy(app.permitted_users)
                ),
            );
        }
        if old.profiles != app.profiles || old.permission_sets != app.permission_sets {
            push(
                "connectedAppPreauthChanged",
                "Connected Apps",
                format!(
                    "Changed pre-authorized profiles and permission sets for connected app {}",
                    app.name
                ),
            );
        }
    }
    for app in &after.external_client_apps {
        let Some(old) = before.eca(&app.name) else {
            continue;
        };
        let mut oauth_policy = |what: String| {
            push(
                "extlClntAppOauthPlcyUpdated",
                "External Client Apps",
                format!(
                    "Updated the External Client App OAuth Policies {}: {what}",
                    app.oauth_policies_name()
                ),
            )
        };
        if old.permitted_users != app.permitted_users {
            oauth_policy(format!(
                "Changed Permitted Users from {} to {}",
                eca_policy(old.permitted_users),
                eca_policy(app.permitted_users)
            ));
        }
        let label = |name: &str| {
            after
                .permission_set(name)
                .or_else(|| before.permission_set(name))
                .map_or(name.to_string(), |p| p.label.clone())
        };
        // A deleted permission set's pre-authorization goes with it: the
        // trail records only the deletion.
        for ps in old
            .permission_sets
            .iter()
            .filter(|p| !app.permission_sets.contains(p) && after.permission_set(p).is_some())
        {
            oauth_policy(format!(
                "Removed permission set {} from the pre-authorized permission sets",
                label(ps)
            ));
        }
        for ps in app
            .permission_sets
            .iter()
            .filter(|p| !old.permission_sets.contains(p))
        {
            oauth_policy(format!(
                "Added permission set {} to the pre-authorized permission sets",
                label(ps)
            ));
        }
        if old.client_credentials_enabled != app.client_credentials_enabled {
            let (from, to) = on_off(old.client_credentials_enabled);
            oauth_policy(format!(
                "Changed Enable Client Credentials Flow from {from} to {to}"
            ));
        }
        if old.client_credentials_user != app.client_credentials_user {
            let name = |u: &Option<String>| u.clone().unwrap_or_else(|| "empty".into());
            oauth_policy(format!(
                "Changed Run As (Username) from {} to {}",
                name(&old.client_credentials_user),
                name(&app.client_credentials_user)
            ));
        }
        if old.oauth_plugin_enabled != app.oauth_plugin_enabled {
            let (from, to) = on_off(old.oauth_plugin_enabled);
            push(
                "extlClntAppPlcyUpdated",
                "External Client Apps",
                format!(
                    "Updated the External Client App Policies {}: Changed Enable OAuth from {from} to {to}",
                    app.policies_name()
                ),
            );
        }
        if old.scopes != app.scopes {
            push(
                "extlClntAppOauthSetUpdated",
                "External Client Apps",
                format!(
                    "Updated the External Client App OAuth Settings {}: Changed OAuth Scopes from {} to {}",
                    app.oauth_settings_name(),
                    old.metadata_scopes(),
                    app.metadata_scopes()
                ),
            );
        }
    }
    // Sharing: an org-wide default changed, a sharing rule deleted.
    for o in &before.objects {
        let Some(now) = after.object(&o.name) else {
            continue;
        };
        if o.sharing_model != now.sharing_model {
            let (from, to) = (o.sharing_model.label(), now.sharing_model.label());
            push(
                "sharingModelChanged",
                "Sharing Defaults",
                format!(
                    "Changed {} organization-wide default from {from} to {to}",
                    o.name
                ),
            );
        }
        for r in o
            .sharing_rules
            .iter()
            .filter(|r| !now.sharing_rules.contains(r))
        {
            let (owners, grantees) = (
                after.group_label(&r.owned_by),
                after.group_label(&r.shared_with),
            );
            push(
                "sharingRuleDeleted",
                "Sharing Rules",
                format!(
                    "Deleted {} sharing rule {} ({}.{}): records owned by {owners} shared with {grantees}, Read Only",
                    o.name, r.label, o.name, r.name
                ),
            );
        }
    }
    out
}

fn eca_policy(p: EcaPermittedUsers) -> &'static str {
    match p {
        EcaPermittedUsers::AdminApprovedPreAuthorized => "Admin approved users are pre-authorized",
        EcaPermittedUsers::AllSelfAuthorized => "All users may self-authorize",
    }
}

fn on_off(was: bool) -> (&'static str, &'static str) {
    if was {
        ("True", "False")
    } else {
        ("False", "True")
    }
}

fn policy(p: PermittedUsers) -> &'static str {
    match p {
        PermittedUsers::AllUsersSelfAuthorize => "All users may self-authorize",
        PermittedUsers::AdminApproved => "Admin approved users are pre-authorized",
    }
}

/// Append the entries for the changes from `before` to `org`, made by
/// `actor` at `now - actor.ago`.
pub fn record(org: &mut Org, before: &Org, actor: &Actor, now: DateTime<Utc>) {
    let at = now - actor.ago;
    for (action, section, display) in changes(before, org) {
        org.audit_trail.push(AuditEntry {
            action,
            section,
            display,
            created_date: at,
            created_by: actor.username.clone(),
            delegate_user: actor.delegate.clone(),
        });
    }
}

/// Entries a real org has that say nothing about the integration: recent
/// ones too.
pub fn noise(now: DateTime<Utc>) -> Vec<AuditEntry> {
    let entry = |ago: Duration, action: &str, section: &str, display: &str| AuditEntry {
        action: action.into(),
        section: section.into(),
        display: display.into(),
        created_date: now - ago,
        created_by: ADMIN.into(),
        delegate_user: None,
    };
    vec![
        entry(
            Duration::days(30),
            "newuser",
            "Manage Users",
            "Created new user Integration User (integration@acme.example)",
        ),
        entry(
            Duration::days(2),
            "PermSetCreate",
            "Manage Users",
            "Created permission set Marketing Analytics: with user license Salesforce.",
        ),
        entry(
            Duration::hours(3),
            "changedpassword",
            "Manage Users",
            "Changed password for user Wile Coyote (wile@acme.example)",
        ),
        entry(
            Duration::minutes(20),
            "picklistValues",
            "Customize Opportunities",
            "Changed picklist values for Opportunity field Stage",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{demo, scenarios};

    #[test]
    fn each_scenario_change_leaves_an_entry_naming_what_changed() {
        let before = scenarios::healthy();
        for (name, needle) in [
            ("inactive-user", "Deactivated user Integration User (integration@acme.example)"),
            ("profile-no-api", "Changed profile for user Integration User (integration@acme.example) from Integration User to Integration (cloned)"),
            ("permset-unassigned", "Changed profile Integration User: API Enabled was changed from True to False"),
            ("object-not-readable", "Permission set Stripe Integration Access: object Opportunity: Read was removed"),
            ("field-not-readable", "Permission set Stripe Integration Access: field-level security for Opportunity: Amount was changed from Read Only to No Access"),
            ("connected-app-admin-approved", "Changed Permitted Users for connected app sfsmoke CI"),
            ("eca-not-preauthorized", "Updated the External Client App OAuth Policies Warehouse_Sync_oauthPlcy: Removed permission set Stripe Integration Access from the pre-authorized permission sets"),
            ("eca-plugin-disabled", "Updated the External Client App Policies Warehouse_Sync_plcy: Changed Enable OAuth from True to False"),
            ("eca-scope-without-api", "Updated the External Client App OAuth Settings Warehouse_Sync_oauth: Changed OAuth Scopes from Api,RefreshToken to OpenID,RefreshToken"),
            ("eca-cc-plugin-disabled", "Updated the External Client App Policies Nightly_Export_plcy: Changed Enable OAuth from True to False"),
            ("eca-cc-disabled", "Updated the External Client App OAuth Policies Nightly_Export_oauthPlcy: Changed Enable Client Credentials Flow from True to False"),
            ("eca-cc-user-changed", "Updated the External Client App OAuth Policies Nightly_Export_oauthPlcy: Changed Run As (Username) from integration@acme.example to etl@acme.example"),
            ("eca-cc-scope-without-api", "Updated the External Client App OAuth Settings Nightly_Export_oauth: Changed OAuth Scopes from Api to OpenID"),
            ("sharing-rule-removed", "Deleted Opportunity sharing rule Opportunities for integrations (Opportunity.Opportunities_for_integrations): records owned by All Internal Users shared with Integration Users, Read Only"),
        ] {
            let mut after = before.clone();
            scenarios::apply(name, &mut after).unwrap();
            let found = changes(&before, &after);
            assert!(found.iter().any(|(_, _, d)| d.starts_with(needle)), "{name}: {found:?}");
        }
        let mut after = before.clone();
        after.user_mut(demo::USERNAME).unwrap().assignments.clear();
        let found: Vec<String> = changes(&before, &after).into_iter().map(|c| c.2).collect();
        assert_eq!(
            found,
            vec![
                "Permission set Stripe Integration Access: unassigned from user Integration User (integration@acme.example)",
                "Permission set group Data Warehouse Readers: unassigned from user Integration User (integration@acme.example)",
            ]
        );
        assert!(changes(&before, &before.clone()).is_empty());
        // Deleting a pre-authorized permission set is one entry: the
        // deletion (its pre-authorizations go with it, unrecorded).
        let mut after = before.clone();
        scenarios::apply("permset-deleted", &mut after).unwrap();
        assert!(after
            .eca(demo::ECA_JWT_NAME)
            .unwrap()
            .permission_sets
            .is_empty());
        let found: Vec<String> = changes(&before, &after).into_iter().map(|c| c.2).collect();
        assert!(
            !found
                .iter()
                .any(|d| d.contains("pre-authorized permission sets")),
            "{found:?}"
        );
    }
}
