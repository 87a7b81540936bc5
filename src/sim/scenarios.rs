//! Built-in orgs: a healthy one, and one per cause in the seed, each derived
//! from the healthy org by a state change (the same change a test can apply
//! to a running sim with `SimHandle::update` to show "it worked yesterday,
//! it is broken today").
//!
//! Every scenario uses the demo credentials of [`crate::sim::demo`].

use crate::sim::demo;
use crate::sim::model::*;
use chrono::{Duration, Utc};
use indexmap::IndexMap;
use serde_json::json;

/// Name and one-line description of every built-in scenario.
pub fn names() -> &'static [(&'static str, &'static str)] {
    &[
        ("healthy", "Enterprise org; the integration user has API Enabled from its profile and reads Account, Contact, Opportunity, Invoice__c"),
        ("profile-no-api", "the integration user was moved to 'Integration (cloned)', a clone of Standard User with API Enabled off"),
        ("permset-unassigned", "API Enabled had moved from the profile to the 'Salesforce API Integration' permission set, which is now unassigned"),
        ("license-chatter-free", "the integration user was downgraded to a Chatter Free license (profile 'Chatter Free User')"),
        ("license-identity", "the integration user was moved to an Identity license (profile 'Identity User')"),
        ("edition-essentials", "the org is Essentials edition, without the API add-on"),
        ("edition-professional-no-api", "the org is Professional edition, without the API add-on"),
        ("trial-expired", "the org is a trial whose trial period ended yesterday"),
        ("connected-app-admin-approved", "the Connected App now admits only pre-authorized users, and the integration user's profile and permission sets are not among them"),
        ("retired-api-version", "API versions 31.0-40.0 are retired (the Summer '28 retirement): a client pinned at v40.0 or older is refused"),
        ("quota-exhausted", "the org used its whole daily API request allocation"),
        ("session-expiring", "sessions time out immediately (timeout 0 s): login works, the next call gets INVALID_SESSION_ID"),
        ("security-token-required", "the trusted IP range covering the CI runner was removed: a login without the security token fails"),
        ("object-not-readable", "'Stripe Integration Access' lost Read on Opportunity, the only grant of it"),
        ("field-not-readable", "'Stripe Integration Access' lost Read on the Opportunity.Amount field (field-level security), the only grant of it: a query naming Amount fails with INVALID_FIELD"),
        ("permset-deleted", "'Stripe Integration Access' (Read on Account, Contact, Opportunity) was deleted, and with it the integration user's assignment"),
        ("inactive-user", "the integration user was deactivated"),
        ("permset-expired", "the 'Salesforce API Integration' assignment (API Enabled) passed its expiration date"),
        ("connected-app-no-api-scope", "the Connected App's OAuth scopes lost 'api': its tokens are refused by the REST API (a new login does not help)"),
        ("eca-not-preauthorized", "the 'Warehouse Sync' External Client App (JWT) no longer pre-authorizes 'Stripe Integration Access', the integration user's permission set: invalid_app_access"),
        ("eca-plugin-disabled", "the 'Warehouse Sync' External Client App (JWT) has its OAuth plugin switched off: its consumer key is unknown (invalid_client_id)"),
        ("eca-scope-without-api", "the 'Warehouse Sync' External Client App (JWT) lost the 'api' OAuth scope: its tokens are refused by the REST API"),
        ("eca-cc-plugin-disabled", "the 'Nightly Export' External Client App (client credentials) has its OAuth plugin switched off: its consumer key is unknown (invalid_client_id)"),
        ("eca-cc-disabled", "the 'Nightly Export' External Client App's client credentials flow was switched off: no client credentials user enabled"),
        ("eca-cc-user-changed", "the 'Nightly Export' External Client App now runs as a new user 'etl@acme.example' whose profile has no API Enabled: a token, then API_DISABLED_FOR_ORG"),
        ("eca-cc-scope-without-api", "the 'Nightly Export' External Client App (client credentials) lost the 'api' OAuth scope: its tokens are refused by the REST API"),
        ("sharing-rule-removed", "Ada Admin deleted the sharing rule 'Opportunities for integrations' that shared every Opportunity with the 'Integration Users' group (Opportunity is Private): the integration user's queries still run but return no Opportunities"),
        ("composite-refused", "POST /composite answers 404 NOT_FOUND (a gateway that does not know it, as API versions before 38.0 do): sfsmoke falls back to one request per query"),
    ]
}

/// Build a scenario's org by name.
pub fn build(name: &str) -> Option<Org> {
    let mut org = healthy();
    apply(name, &mut org)?;
    Some(org)
}

/// Apply a scenario's state change to an org built like the healthy one.
/// Returns `None` for an unknown name. `healthy` changes nothing.
pub fn apply(name: &str, org: &mut Org) -> Option<()> {
    let now = Utc::now();
    match name {
        "healthy" => {}
        "sharing-rule-removed" => {
            let rules = &mut org.object_mut("Opportunity")?.sharing_rules;
            rules.retain(|r| r.name != OPPORTUNITY_RULE);
        }
        "profile-no-api" => {
            org.user_mut(demo::USERNAME)?.profile = "Integration (cloned)".into();
        }
        "permset-unassigned" => {
            org.profile_mut(INTEGRATION_PROFILE)?
                .permissions
                .api_enabled = false;
            // The assignment that had granted it is gone.
            org.user_mut(demo::USERNAME)?
                .assignments
                .retain(|a| a.permission_set.as_deref() != Some(API_PERMSET));
        }
        "license-chatter-free" => {
            org.user_mut(demo::USERNAME)?.profile = "Chatter Free User".into();
        }
        "license-identity" => {
            org.user_mut(demo::USERNAME)?.profile = "Identity User".into();
        }
        "edition-essentials" => {
            org.edition = Edition::Essentials;
            org.api_add_on = false;
        }
        "edition-professional-no-api" => {
            org.edition = Edition::Professional;
            org.api_add_on = false;
        }
        "trial-expired" => {
            org.edition = Edition::Developer;
            org.trial_expiration = Some(now - Duration::days(1));
        }
        "connected-app-admin-approved" => {
            let app = org.app_mut(demo::CONNECTED_APP_NAME)?;
            app.permitted_users = PermittedUsers::AdminApproved;
            app.profiles = vec!["System Administrator".into()];
            app.permission_sets = vec![];
        }
        "retired-api-version" => {
            org.oldest_api_version = 41;
        }
        "quota-exhausted" => {
            org.api_requests_used = org.daily_api_limit;
        }
        "session-expiring" => {
            org.session_timeout_secs = 0;
        }
        "security-token-required" => {
            org.trusted_ip_ranges.clear();
        }
        "object-not-readable" => {
            org.permission_set_mut(STRIPE_PERMSET)?
                .objects
                .shift_remove("Opportunity");
        }
        "field-not-readable" => {
            org.permission_set_mut(STRIPE_PERMSET)?
                .fields
                .shift_remove("Opportunity.Amount");
        }
        "permset-deleted" => {
            org.permission_sets.retain(|p| p.name != STRIPE_PERMSET);
            for u in &mut org.users {
                u.assignments
                    .retain(|a| a.permission_set.as_deref() != Some(STRIPE_PERMSET));
            }
            // Its pre-authorizations (SetupEntityAccess rows) go with it.
            let apps = org
                .connected_apps
                .iter_mut()
                .map(|a| &mut a.permission_sets);
            let ecas = org
                .external_client_apps
                .iter_mut()
                .map(|a| &mut a.permission_sets);
            for list in apps.chain(ecas) {
                list.retain(|p| p != STRIPE_PERMSET);
            }
        }
        "connected-app-no-api-scope" => {
            drop_api_scope(&mut org.app_mut(demo::CONNECTED_APP_NAME)?.scopes);
        }
        "eca-not-preauthorized" => {
            org.eca_mut(demo::ECA_JWT_NAME)?
                .permission_sets
                .retain(|p| p != STRIPE_PERMSET);
        }
        "eca-plugin-disabled" => {
            org.eca_mut(demo::ECA_JWT_NAME)?.oauth_plugin_enabled = false;
        }
        "eca-scope-without-api" => {
            drop_api_scope(&mut org.eca_mut(demo::ECA_JWT_NAME)?.scopes);
        }
        "eca-cc-plugin-disabled" => {
            org.eca_mut(demo::ECA_CC_NAME)?.oauth_plugin_enabled = false;
        }
        "eca-cc-disabled" => {
            org.eca_mut(demo::ECA_CC_NAME)?.client_credentials_enabled = false;
        }
        "eca-cc-user-changed" => {
            org.eca_mut(demo::ECA_CC_NAME)?;
            if org.user(ETL_USERNAME).is_none() {
                org.users.push(etl_user());
            }
            org.eca_mut(demo::ECA_CC_NAME)?.client_credentials_user = Some(ETL_USERNAME.into());
        }
        "eca-cc-scope-without-api" => {
            drop_api_scope(&mut org.eca_mut(demo::ECA_CC_NAME)?.scopes);
        }
        "composite-refused" => {
            org.composite = false;
        }
        "inactive-user" => {
            org.user_mut(demo::USERNAME)?.active = false;
        }
        "permset-expired" => {
            org.profile_mut(INTEGRATION_PROFILE)?
                .permissions
                .api_enabled = false;
            let user = org.user_mut(demo::USERNAME)?;
            user.assignments.push(Assignment {
                permission_set: Some(API_PERMSET.into()),
                group: None,
                active: true,
                expires: Some(now - Duration::hours(1)),
            });
        }
        _ => return None,
    }
    Some(())
}

/// Remove the `api` and `full` scopes, leaving `openid` so the app still
/// issues tokens (that the REST API refuses).
fn drop_api_scope(scopes: &mut Vec<String>) {
    scopes.retain(|s| s != "api" && s != "full");
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".into());
    }
}

/// The user `eca-cc-user-changed` creates and switches the client
/// credentials flow to.
pub const ETL_USERNAME: &str = "etl@acme.example";

/// An "API only" integration user whose profile lacks API Enabled and who
/// holds no permission set granting it.
fn etl_user() -> User {
    user(
        ETL_USERNAME,
        "ETL",
        "Service",
        "etl-not-for-demo-use-1",
        "ETLtoken0000000000000000",
        "Minimum Access - API Only Integrations",
        vec![],
    )
}

/// The healthy org's External Client Apps: one for the JWT integration,
/// one for client credentials, both running as the integration user.
fn external_client_apps() -> Vec<ExternalClientApp> {
    vec![
        ExternalClientApp {
            name: demo::ECA_JWT_NAME.into(),
            label: "Warehouse Sync".into(),
            id: eca_id(demo::ECA_JWT_NAME),
            consumer_key: demo::ECA_JWT_CLIENT_ID.into(),
            consumer_secret: demo::ECA_JWT_CLIENT_SECRET.into(),
            certificate: Some(demo::JWT_CERTIFICATE_PEM.into()),
            oauth_plugin_enabled: true,
            permitted_users: EcaPermittedUsers::AdminApprovedPreAuthorized,
            permission_sets: vec![STRIPE_PERMSET.into()],
            client_credentials_enabled: false,
            client_credentials_user: None,
            scopes: vec!["api".into(), "refresh_token".into()],
            approved_by: vec![],
            refresh_tokens: vec![],
        },
        ExternalClientApp {
            name: demo::ECA_CC_NAME.into(),
            label: "Nightly Export".into(),
            id: eca_id(demo::ECA_CC_NAME),
            consumer_key: demo::ECA_CC_CLIENT_ID.into(),
            consumer_secret: demo::ECA_CC_CLIENT_SECRET.into(),
            certificate: None,
            oauth_plugin_enabled: true,
            // Nobody pre-authorized: Permitted Users does not apply to the
            // run-as user, so the flow works all the same.
            permitted_users: EcaPermittedUsers::AdminApprovedPreAuthorized,
            permission_sets: vec![],
            client_credentials_enabled: true,
            client_credentials_user: Some(demo::USERNAME.into()),
            scopes: vec!["api".into()],
            approved_by: vec![],
            refresh_tokens: vec![],
        },
    ]
}

/// The integration user's profile in the healthy org.
pub const INTEGRATION_PROFILE: &str = "Integration User";
/// API name of the permission set that grants only API Enabled.
pub const API_PERMSET: &str = "Salesforce_API_Integration";
/// API name of the permission set granting the integration's object access.
pub const STRIPE_PERMSET: &str = "Stripe_Integration_Access";
/// API name of an unassigned permission set granting API Enabled.
pub const EMERGENCY_PERMSET: &str = "Emergency_API_Access";
/// API name of a permission set granting API Enabled, tied to the
/// 'Salesforce Integration' license.
pub const INTEGRATION_LICENSE_PERMSET: &str = "Integration_License_API";
/// Developer name of the permission set group in the healthy org.
pub const WAREHOUSE_GROUP: &str = "Data_Warehouse_Readers";
/// The public group the Opportunity sharing rule shares with.
pub const INTEGRATION_GROUP: &str = "Integration_Users";
/// The sharing rule that lets the integration user see Opportunities.
pub const OPPORTUNITY_RULE: &str = "Opportunities_for_integrations";

fn read() -> ObjectAccess {
    ObjectAccess {
        read: true,
        ..Default::default()
    }
}

fn all() -> ObjectAccess {
    ObjectAccess {
        read: true,
        create: true,
        edit: true,
        delete: true,
        view_all: true,
        modify_all: true,
    }
}

fn objects(list: &[&str], access: ObjectAccess) -> IndexMap<String, ObjectAccess> {
    list.iter()
        .map(|o| (o.to_string(), access.clone()))
        .collect()
}

fn perms(api: bool, setup: bool) -> SystemPermissions {
    SystemPermissions {
        api_enabled: api,
        view_setup: setup,
        ..Default::default()
    }
}

fn license(name: &str, key: &str, api: bool) -> UserLicense {
    UserLicense {
        name: name.into(),
        key: key.into(),
        api_access: api,
        total: 10,
    }
}

fn profile(
    name: &str,
    lic: &str,
    p: SystemPermissions,
    o: IndexMap<String, ObjectAccess>,
) -> Profile {
    Profile {
        name: name.into(),
        license: lic.into(),
        permissions: p,
        objects: o,
        fields: IndexMap::new(),
    }
}

fn permset(
    name: &str,
    label: &str,
    p: SystemPermissions,
    o: IndexMap<String, ObjectAccess>,
) -> PermissionSet {
    PermissionSet {
        name: name.into(),
        label: label.into(),
        license: None,
        permissions: p,
        objects: o,
        fields: IndexMap::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn user(
    username: &str,
    first: &str,
    last: &str,
    password: &str,
    token: &str,
    profile: &str,
    assignments: Vec<Assignment>,
) -> User {
    User {
        username: username.into(),
        first_name: first.into(),
        last_name: last.into(),
        email: username.replace(".example", ".example.com"),
        active: true,
        password: password.into(),
        security_token: token.into(),
        profile: profile.into(),
        assignments,
    }
}

fn field(name: &str, kind: &str) -> FieldDef {
    FieldDef {
        name: name.into(),
        kind: kind.into(),
        label: None,
        reference_to: None,
        relationship_name: None,
        permissionable: false,
    }
}

/// A field under field-level security.
fn secured(name: &str, kind: &str) -> FieldDef {
    FieldDef {
        permissionable: true,
        ..field(name, kind)
    }
}

/// Read on every field under field-level security of each object a
/// profile or permission set reads, as an admin ticks "Visible" when
/// granting an object: the healthy org reads all it could before
/// field-level security was modelled.
fn grant_field_reads(org: &mut Org) {
    let secured: Vec<(String, String)> = org
        .objects
        .iter()
        .flat_map(|o| {
            o.fields
                .iter()
                .filter(|f| f.permissionable)
                .map(|f| (o.name.clone(), format!("{}.{}", o.name, f.name)))
        })
        .collect();
    let grant = |objects: &IndexMap<String, ObjectAccess>,
                 fields: &mut IndexMap<String, FieldAccess>| {
        for (obj, key) in &secured {
            if let Some(a) = objects.get(obj).filter(|a| a.read) {
                fields.insert(
                    key.clone(),
                    FieldAccess {
                        read: true,
                        edit: a.edit,
                    },
                );
            }
        }
    };
    for p in &mut org.profiles {
        grant(&p.objects, &mut p.fields);
    }
    for ps in &mut org.permission_sets {
        grant(&ps.objects, &mut ps.fields);
    }
}

fn reference(name: &str, to: &str, rel: &str) -> FieldDef {
    FieldDef {
        name: name.into(),
        kind: "reference".into(),
        label: None,
        reference_to: Some(to.into()),
        relationship_name: Some(rel.into()),
        permissionable: false,
    }
}

fn rec(v: serde_json::Value) -> IndexMap<String, serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m.into_iter().collect(),
        _ => IndexMap::new(),
    }
}

/// The healthy org: Enterprise edition, API versions 31.0-66.0, 15,000
/// requests a day, loopback trusted (no security token needed from
/// 127.0.0.1, though appending it still works).
pub fn healthy() -> Org {
    let now = Utc::now();
    let today = now.format("%Y-%m-%dT%H:%M:%S.000+0000").to_string();
    let yesterday = (now - Duration::days(1))
        .format("%Y-%m-%dT%H:%M:%S.000+0000")
        .to_string();
    let business = ["Account", "Contact", "Opportunity", "Invoice__c"];
    let mut org = Org {
        name: "Acme (simulated)".into(),
        id: demo::ORG_ID.into(),
        edition: Edition::Enterprise,
        api_add_on: false,
        sandbox: false,
        trial_expiration: None,
        oldest_api_version: 31,
        newest_api_version: 66,
        soap_login_removed_in: 65,
        daily_api_limit: 15_000,
        api_requests_used: 0,
        eca_secrets_via_metadata: true,
        composite: true,
        session_timeout_secs: 7200,
        trusted_ip_ranges: vec![
            IpRange {
                start: "127.0.0.0".parse().expect("ip"),
                end: "127.255.255.255".parse().expect("ip"),
            },
            IpRange {
                start: "::1".parse().expect("ip"),
                end: "::1".parse().expect("ip"),
            },
        ],
        licenses: vec![
            license("Salesforce", "SFDC", true),
            license("Salesforce Integration", "PID_Salesforce_Integration", true),
            license("Chatter Free", "PID_Chatter", false),
            license("Identity", "PID_Identity", false),
        ],
        profiles: vec![
            profile(
                "System Administrator",
                "Salesforce",
                SystemPermissions {
                    api_enabled: true,
                    view_setup: true,
                    view_all_data: true,
                    modify_all_data: true,
                    manage_users: true,
                    modify_metadata: true,
                    view_eca_secrets_in_metadata: true,
                },
                objects(&business, all()),
            ),
            profile(
                "Standard User",
                "Salesforce",
                perms(true, false),
                objects(&business, read()),
            ),
            profile(
                INTEGRATION_PROFILE,
                "Salesforce",
                perms(true, false),
                IndexMap::new(),
            ),
            // What an admin got by cloning Standard User and unticking API
            // Enabled "because the integration does not need the UI".
            profile(
                "Integration (cloned)",
                "Salesforce",
                perms(false, false),
                objects(&["Account", "Contact"], read()),
            ),
            profile(
                "Minimum Access - API Only Integrations",
                "Salesforce Integration",
                perms(false, false),
                IndexMap::new(),
            ),
            profile(
                "Chatter Free User",
                "Chatter Free",
                perms(false, false),
                IndexMap::new(),
            ),
            profile(
                "Identity User",
                "Identity",
                perms(false, false),
                IndexMap::new(),
            ),
            profile(
                "Read Only Auditor",
                "Salesforce",
                perms(true, true),
                IndexMap::new(),
            ),
        ],
        permission_sets: vec![
            permset(
                API_PERMSET,
                "Salesforce API Integration",
                perms(true, false),
                IndexMap::new(),
            ),
            permset(
                STRIPE_PERMSET,
                "Stripe Integration Access",
                perms(false, false),
                objects(&["Account", "Contact", "Opportunity"], read()),
            ),
            // Break-glass access an admin keeps unassigned: a fix that exists.
            permset(
                EMERGENCY_PERMSET,
                "Emergency API Access",
                perms(true, false),
                IndexMap::new(),
            ),
            // Tied to the Salesforce Integration license: not assignable to a
            // user with the 'Salesforce' license.
            PermissionSet {
                license: Some("Salesforce Integration".into()),
                ..permset(
                    INTEGRATION_LICENSE_PERMSET,
                    "Integration License API",
                    perms(true, false),
                    IndexMap::new(),
                )
            },
            permset(
                "Snowflake_Reader_Access",
                "Snowflake Reader Access",
                perms(false, false),
                objects(&["Invoice__c"], read()),
            ),
        ],
        permission_set_groups: vec![PermissionSetGroup {
            name: WAREHOUSE_GROUP.into(),
            label: "Data Warehouse Readers".into(),
            permission_sets: vec!["Snowflake_Reader_Access".into()],
        }],
        users: vec![
            user(
                demo::USERNAME,
                "Integration",
                "User",
                demo::PASSWORD,
                demo::SECURITY_TOKEN,
                INTEGRATION_PROFILE,
                vec![
                    Assignment::permission_set(STRIPE_PERMSET),
                    Assignment::group(WAREHOUSE_GROUP),
                ],
            ),
            user(
                demo::AUDITOR_USERNAME,
                "Setup",
                "Auditor",
                demo::AUDITOR_PASSWORD,
                demo::AUDITOR_SECURITY_TOKEN,
                "Read Only Auditor",
                vec![],
            ),
            user(
                "admin@acme.example",
                "Ada",
                "Admin",
                "admin-not-for-demo-use-1",
                "ADMINtoken00000000000000",
                "System Administrator",
                vec![],
            ),
        ],
        connected_apps: vec![ConnectedApp {
            name: demo::CONNECTED_APP_NAME.into(),
            consumer_key: demo::CLIENT_ID.into(),
            consumer_secret: demo::CLIENT_SECRET.into(),
            certificate: Some(demo::JWT_CERTIFICATE_PEM.into()),
            permitted_users: PermittedUsers::AllUsersSelfAuthorize,
            profiles: vec![],
            permission_sets: vec![],
            run_as: Some(demo::USERNAME.into()),
            approved_by: vec![demo::USERNAME.into(), demo::AUDITOR_USERNAME.into()],
            refresh_tokens: vec![RefreshGrant {
                token: demo::REFRESH_TOKEN.into(),
                username: demo::USERNAME.into(),
            }],
            scopes: vec!["api".into(), "refresh_token".into()],
        }],
        external_client_apps: external_client_apps(),
        audit_trail: crate::sim::audit_trail::noise(now),
        groups: vec![PublicGroup {
            name: INTEGRATION_GROUP.into(),
            label: "Integration Users".into(),
            members: vec![demo::USERNAME.into()],
        }],
        objects: vec![
            SObjectDef {
                sharing_model: SharingModel::ReadWrite,
                sharing_rules: vec![],
                name: "Account".into(),
                label: "Account".into(),
                label_plural: Some("Accounts".into()),
                key_prefix: "001".into(),
                fields: vec![
                    field("Id", "id"),
                    field("Name", "string"),
                    field("Industry", "picklist"),
                    secured("AnnualRevenue", "currency"),
                    field("CreatedDate", "datetime"),
                    field("LastModifiedDate", "datetime"),
                ],
                records: vec![
                    rec(
                        json!({"Id": sf_id("001", "acme"), "Name": "Acme Corporation", "Industry": "Manufacturing", "AnnualRevenue": 12000000.0, "CreatedDate": yesterday, "LastModifiedDate": today}),
                    ),
                    rec(
                        json!({"Id": sf_id("001", "globex"), "Name": "Globex", "Industry": "Energy", "AnnualRevenue": 5400000.0, "CreatedDate": yesterday, "LastModifiedDate": yesterday}),
                    ),
                    rec(
                        json!({"Id": sf_id("001", "initech"), "Name": "Initech", "Industry": "Technology", "CreatedDate": yesterday, "LastModifiedDate": yesterday}),
                    ),
                ],
            },
            SObjectDef {
                sharing_model: SharingModel::ReadWrite,
                sharing_rules: vec![],
                name: "Contact".into(),
                label: "Contact".into(),
                label_plural: Some("Contacts".into()),
                key_prefix: "003".into(),
                fields: vec![
                    field("Id", "id"),
                    field("FirstName", "string"),
                    field("LastName", "string"),
                    secured("Email", "email"),
                    reference("AccountId", "Account", "Account"),
                    field("CreatedDate", "datetime"),
                    field("LastModifiedDate", "datetime"),
                ],
                records: vec![
                    rec(
                        json!({"Id": sf_id("003", "wile"), "FirstName": "Wile E.", "LastName": "Coyote", "Email": "wile@acme.example.com", "AccountId": sf_id("001", "acme"), "CreatedDate": yesterday, "LastModifiedDate": yesterday}),
                    ),
                    rec(
                        json!({"Id": sf_id("003", "hank"), "FirstName": "Hank", "LastName": "Scorpio", "Email": "hank@globex.example.com", "AccountId": sf_id("001", "globex"), "CreatedDate": yesterday, "LastModifiedDate": today}),
                    ),
                ],
            },
            SObjectDef {
                name: "Opportunity".into(),
                label: "Opportunity".into(),
                label_plural: Some("Opportunities".into()),
                key_prefix: "006".into(),
                fields: vec![
                    field("Id", "id"),
                    field("Name", "string"),
                    field("StageName", "picklist"),
                    secured("Amount", "currency"),
                    field("CloseDate", "date"),
                    reference("AccountId", "Account", "Account"),
                    reference("OwnerId", "User", "Owner"),
                    field("CreatedDate", "datetime"),
                    field("LastModifiedDate", "datetime"),
                ],
                // Private: the integration user sees Opportunities only
                // through the sharing rule below.
                sharing_model: SharingModel::Private,
                sharing_rules: vec![SharingRule {
                    name: OPPORTUNITY_RULE.into(),
                    label: "Opportunities for integrations".into(),
                    owned_by: ALL_INTERNAL_USERS.into(),
                    shared_with: INTEGRATION_GROUP.into(),
                }],
                records: vec![
                    rec(
                        json!({"Id": sf_id("006", "rockets"), "OwnerId": user_id(crate::sim::audit_trail::ADMIN), "Name": "Rocket skates renewal", "StageName": "Negotiation/Review", "Amount": 250000.0, "CloseDate": now.format("%Y-%m-%d").to_string(), "AccountId": sf_id("001", "acme"), "CreatedDate": yesterday, "LastModifiedDate": today}),
                    ),
                    rec(
                        json!({"Id": sf_id("006", "anvils"), "OwnerId": user_id(crate::sim::audit_trail::ADMIN), "Name": "Anvils, bulk", "StageName": "Closed Won", "Amount": 48000.0, "CloseDate": (now - Duration::days(30)).format("%Y-%m-%d").to_string(), "AccountId": sf_id("001", "acme"), "CreatedDate": yesterday, "LastModifiedDate": yesterday}),
                    ),
                    rec(
                        json!({"Id": sf_id("006", "dome"), "OwnerId": user_id(crate::sim::audit_trail::ADMIN), "Name": "Globex dome", "StageName": "Prospecting", "Amount": 1000000.0, "CloseDate": (now + Duration::days(60)).format("%Y-%m-%d").to_string(), "AccountId": sf_id("001", "globex"), "CreatedDate": yesterday, "LastModifiedDate": today}),
                    ),
                ],
            },
            SObjectDef {
                sharing_model: SharingModel::ReadWrite,
                sharing_rules: vec![],
                name: "Invoice__c".into(),
                label: "Invoice".into(),
                label_plural: Some("Invoices".into()),
                key_prefix: "a01".into(),
                fields: vec![
                    field("Id", "id"),
                    field("Name", "string"),
                    secured("Amount__c", "currency"),
                    field("Status__c", "picklist"),
                    reference("Account__c", "Account", "Account__r"),
                    field("CreatedDate", "datetime"),
                    field("LastModifiedDate", "datetime"),
                ],
                records: vec![rec(
                    json!({"Id": sf_id("a01", "inv1"), "Name": "INV-0001", "Amount__c": 48000.0, "Status__c": "Paid", "Account__c": sf_id("001", "acme"), "CreatedDate": yesterday, "LastModifiedDate": yesterday}),
                )],
            },
        ],
    };
    grant_field_reads(&mut org);
    org
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_scenario_builds_and_validates() {
        for (name, desc) in names() {
            assert!(!desc.is_empty());
            let org = build(name).unwrap_or_else(|| panic!("scenario {name} does not build"));
            org.validate()
                .unwrap_or_else(|e| panic!("scenario {name} is inconsistent: {e}"));
        }
        assert!(build("no-such-scenario").is_none());
    }

    #[test]
    fn healthy_integration_user_has_api_access() {
        let org = healthy();
        let u = org.user(demo::USERNAME).unwrap();
        assert_eq!(org.api_access(u, Utc::now()), Ok(()));
        let aud = org.user(demo::AUDITOR_USERNAME).unwrap();
        assert_eq!(org.api_access(aud, Utc::now()), Ok(()));
    }

    /// Each broken scenario fails for its own cause and no other: the rule
    /// is derived from state, so the denial tells the cause.
    #[test]
    fn each_access_scenario_denies_for_its_cause() {
        let now = Utc::now();
        let denial = |name: &str| {
            let org = build(name).unwrap();
            let u = org.user(demo::USERNAME).unwrap().clone();
            org.api_access(&u, now)
        };
        assert!(matches!(
            denial("profile-no-api"),
            Err(Denial::ApiNotEnabled { profile }) if profile == "Integration (cloned)"
        ));
        assert!(matches!(
            denial("permset-unassigned"),
            Err(Denial::ApiNotEnabled { .. })
        ));
        assert!(matches!(
            denial("permset-expired"),
            Err(Denial::ApiNotEnabled { .. })
        ));
        assert!(matches!(
            denial("license-chatter-free"),
            Err(Denial::LicenseWithoutApi { license }) if license == "Chatter Free"
        ));
        assert!(matches!(
            denial("license-identity"),
            Err(Denial::LicenseWithoutApi { license }) if license == "Identity"
        ));
        assert_eq!(
            denial("edition-essentials"),
            Err(Denial::EditionWithoutApi {
                edition: Edition::Essentials
            })
        );
        assert_eq!(
            denial("edition-professional-no-api"),
            Err(Denial::EditionWithoutApi {
                edition: Edition::Professional
            })
        );
        assert_eq!(denial("trial-expired"), Err(Denial::TrialExpired));
        assert_eq!(denial("inactive-user"), Err(Denial::InactiveUser));
        for ok in [
            "healthy",
            "connected-app-admin-approved",
            "retired-api-version",
            "quota-exhausted",
            "session-expiring",
            "security-token-required",
            "object-not-readable",
            "connected-app-no-api-scope",
        ] {
            assert_eq!(denial(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn api_enabled_through_a_group_counts() {
        let now = Utc::now();
        let mut org = build("permset-unassigned").unwrap();
        // Put the API permission set into the group the user already has.
        org.permission_set_groups[0]
            .permission_sets
            .push(API_PERMSET.into());
        let u = org.user(demo::USERNAME).unwrap().clone();
        assert_eq!(org.api_access(&u, now), Ok(()));
        let eff = org.effective(&u, now);
        assert_eq!(
            eff.api_enabled_from,
            vec!["permission set group 'Data Warehouse Readers'".to_string()]
        );
        // An inactive assignment grants nothing.
        let mut org2 = org.clone();
        org2.user_mut(demo::USERNAME).unwrap().assignments[1].active = false;
        let u2 = org2.user(demo::USERNAME).unwrap().clone();
        assert!(org2.api_access(&u2, now).is_err());
    }

    #[test]
    fn admin_approved_app_admits_preauthorized_profile_or_permset() {
        let now = Utc::now();
        let mut org = build("connected-app-admin-approved").unwrap();
        let u = org.user(demo::USERNAME).unwrap().clone();
        let app = org.oauth_client(demo::CLIENT_ID).unwrap();
        assert_eq!(
            org.app_access(&app, &u, now, false),
            Err(AppDenial::NotPreAuthorized)
        );
        org.app_mut(demo::CONNECTED_APP_NAME)
            .unwrap()
            .permission_sets
            .push(STRIPE_PERMSET.into());
        let app = org.oauth_client(demo::CLIENT_ID).unwrap();
        assert_eq!(org.app_access(&app, &u, now, true), Ok(()));
        // Through the group's member set too.
        let mut org = build("connected-app-admin-approved").unwrap();
        org.app_mut(demo::CONNECTED_APP_NAME)
            .unwrap()
            .permission_sets
            .push("Snowflake_Reader_Access".into());
        let app = org.oauth_client(demo::CLIENT_ID).unwrap();
        assert_eq!(org.app_access(&app, &u, now, false), Ok(()));
    }

    #[test]
    fn object_not_readable_removes_only_opportunity() {
        let now = Utc::now();
        let org = build("object-not-readable").unwrap();
        let u = org.user(demo::USERNAME).unwrap();
        assert!(!org.can_read(u, "Opportunity", now));
        assert!(org.can_read(u, "Account", now));
        assert!(org.can_read(u, "invoice__c", now));
    }

    /// A query leaves out what sharing hides: the rule, View All on the
    /// object, View All Data, a public default and ownership each let
    /// records through.
    #[test]
    fn sharing_decides_which_opportunities_a_user_sees() {
        let now = Utc::now();
        let seen = |org: &Org, username: &str| {
            let u = org.user(username).unwrap();
            let c = crate::sim::records::Catalog::new(org, u, now);
            c.rows("Opportunity").len()
        };
        let admin = crate::sim::audit_trail::ADMIN;
        let healthy = healthy();
        assert_eq!(seen(&healthy, demo::USERNAME), 3, "through the rule");
        assert_eq!(seen(&healthy, admin), 3);
        let broken = build("sharing-rule-removed").unwrap();
        assert_eq!(seen(&broken, demo::USERNAME), 0);
        assert_eq!(seen(&broken, admin), 3, "View All Data");
        let mut view_all = broken.clone();
        let stripe = view_all.permission_set_mut(STRIPE_PERMSET).unwrap();
        stripe.objects.get_mut("Opportunity").unwrap().view_all = true;
        assert_eq!(seen(&view_all, demo::USERNAME), 3, "View All on the object");
        let mut public = broken.clone();
        public.object_mut("Opportunity").unwrap().sharing_model = SharingModel::Read;
        assert_eq!(seen(&public, demo::USERNAME), 3, "Public Read Only");
        let mut owned = broken.clone();
        let first = &mut owned.object_mut("Opportunity").unwrap().records[0];
        first.insert("OwnerId".into(), json!(user_id(demo::USERNAME)));
        assert_eq!(seen(&owned, demo::USERNAME), 1, "its own record");
        // A rule for a group the user is not in shares nothing with it.
        let mut other = healthy.clone();
        other.groups[0].members.clear();
        assert_eq!(seen(&other, demo::USERNAME), 0);
    }

    #[test]
    fn org_round_trips_through_toml() {
        let org = healthy();
        let text = toml::to_string(&org).expect("serialize");
        let back: Org = toml::from_str(&text).expect("parse");
        back.validate().unwrap();
        assert_eq!(back.users.len(), org.users.len());
        assert_eq!(
            back.user(demo::USERNAME).unwrap().assignments,
            org.user(demo::USERNAME).unwrap().assignments
        );
        let names = |o: &Org| {
            o.external_client_apps
                .iter()
                .map(|a| {
                    (
                        a.name.clone(),
                        a.id.clone(),
                        a.permitted_users,
                        a.client_credentials_user.clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&back), names(&org));
        assert_eq!(names(&org).len(), 2);
    }
}
