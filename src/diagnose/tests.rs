//! The reasoning, fed with canned records shaped like Salesforce's REST query
//! answers, one test per cause.

use super::*;
use crate::audit::access::OrgSnapshot;
use crate::audit::facts::*;
use crate::salesforce::error::Origin;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Fields per object as listed in Salesforce's Object Reference (checked
/// with the docs): a query naming anything else fails the test.
fn documented(object: &str) -> &'static [&'static str] {
    match object {
        "User" => &[
            "Id",
            "Username",
            "Name",
            "IsActive",
            "UserType",
            "ProfileId",
        ],
        "EntityDefinition" => &[
            "QualifiedApiName",
            "InternalSharingModel",
            "ExternalSharingModel",
        ],
        "FieldDefinition" => &["QualifiedApiName"],
        "FieldPermissions" => &[
            "Id",
            "ParentId",
            "SobjectType",
            "Field",
            "PermissionsRead",
            "Parent.Label",
            "Parent.IsOwnedByProfile",
            "Parent.Profile.Name",
            "Parent.PermissionSetGroupId",
            "Parent.PermissionSetGroup.MasterLabel",
        ],
        // A check's own query, counted for `min_rows` (Extra::rows).
        "Opportunity" => &["Id"],
        "SetupAuditTrail" => &[
            "Id",
            "Action",
            "Section",
            "Display",
            "CreatedDate",
            "CreatedBy.Name",
            "CreatedBy.Username",
            "DelegateUser",
        ],
        "Profile" => &["Id", "Name", "PermissionsApiEnabled", "UserLicenseId"],
        "UserLicense" => &[
            "Id",
            "Name",
            "MasterLabel",
            "LicenseDefinitionKey",
            "Status",
        ],
        "PermissionSetAssignment" => &[
            "Id",
            "AssigneeId",
            "PermissionSetId",
            "PermissionSetGroupId",
            "IsActive",
            "ExpirationDate",
        ],
        "PermissionSet" => &[
            "Id",
            "Name",
            "Label",
            "IsOwnedByProfile",
            "ProfileId",
            "PermissionSetGroupId",
            "PermissionsApiEnabled",
            "LicenseId",
        ],
        "PermissionSetGroup" => &["Id", "DeveloperName", "MasterLabel", "Status"],
        "Organization" => &[
            "Id",
            "Name",
            "OrganizationType",
            "IsSandbox",
            "TrialExpirationDate",
        ],
        "ConnectedApplication" => &["Id", "Name", "OptionsAllowAdminApprovedUsersOnly"],
        "SetupEntityAccess" => &["Id", "ParentId", "SetupEntityId", "SetupEntityType"],
        "ObjectPermissions" => &[
            "Id",
            "ParentId",
            "SobjectType",
            "PermissionsRead",
            "Parent.Label",
            "Parent.IsOwnedByProfile",
            "Parent.Profile.Name",
            "Parent.PermissionSetGroupId",
            "Parent.PermissionSetGroup.MasterLabel",
        ],
        _ => &[],
    }
}

/// Canned org: records per object; WHERE clauses are ignored (gather joins
/// by Id itself), fields are checked against [`documented`].
#[derive(Default)]
pub(super) struct Canned {
    pub(super) records: BTreeMap<&'static str, Vec<Value>>,
    /// REST retrieves by path (`sobjects/ExternalClientApplication/<id>...`).
    pub(super) retrieves: BTreeMap<String, Value>,
    /// Metadata API components; `None`: the reader lacks Modify Metadata
    /// (every call answers INSUFFICIENT_ACCESS).
    pub(super) metadata: Option<Vec<crate::salesforce::metadata::Record>>,
    /// Metadata API calls received.
    pub(super) metadata_calls: Mutex<u32>,
    /// Types a `listMetadata` naming them answers INSUFFICIENT_ACCESS for.
    pub(super) list_refused: Vec<&'static str>,
    /// Types whose `readMetadata` answers INSUFFICIENT_ACCESS.
    pub(super) read_refused: Vec<&'static str>,
    /// The version the reader reads at (`None`: unknown).
    pub(super) api_version: Option<String>,
    pub(super) refuse: Vec<&'static str>,
    /// Objects whose query answers 401 INVALID_SESSION_ID (not a missing
    /// permission).
    session_lost: Vec<&'static str>,
    versions: Vec<String>,
    log: Mutex<Vec<String>>,
}

pub(super) fn rec(object: &str, id: &str, fields: Value) -> Value {
    let mut v = json!({
        "attributes": {"type": object, "url": format!("/services/data/v62.0/sobjects/{object}/{id}")},
        "Id": id,
    });
    if let (Value::Object(m), Value::Object(f)) = (&mut v, fields) {
        m.extend(f);
    }
    v
}

impl Canned {
    /// The Metadata API components, to extend.
    pub(super) fn clone_metadata(&self) -> Vec<crate::salesforce::metadata::Record> {
        self.metadata.clone().unwrap_or_default()
    }
}

impl SetupQuery for Canned {
    fn api_version(&self) -> Option<String> {
        self.api_version.clone()
    }
    async fn count(&self, soql: &str) -> Result<u64, Failure> {
        self.query(soql).await.map(|r| r.len() as u64)
    }
    async fn query(&self, soql: &str) -> Result<Vec<Value>, Failure> {
        self.log.lock().unwrap().push(soql.to_string());
        let upper = soql.to_string();
        let from = upper.find(" FROM ").expect("FROM");
        let fields: Vec<&str> = upper["SELECT ".len()..from]
            .split(',')
            .map(str::trim)
            .collect();
        let object = upper[from + 6..].split_whitespace().next().unwrap();
        for f in &fields {
            assert!(
                documented(object).contains(f),
                "{object}.{f} is not a documented field (query: {soql})"
            );
        }
        if self.session_lost.contains(&object) {
            return Err(Failure::new(
                Origin::Rest,
                "INVALID_SESSION_ID",
                "Session expired or invalid",
            )
            .with_status(401));
        }
        if self.refuse.contains(&object) {
            return Err(Failure::new(
                Origin::Rest,
                "INVALID_TYPE",
                format!("sObject type '{object}' is not supported."),
            )
            .with_status(400));
        }
        Ok(self.records.get(object).cloned().unwrap_or_default())
    }

    async fn versions(&self) -> Result<Vec<String>, Failure> {
        Ok(self.versions.clone())
    }

    async fn get_many(&self, paths: &[String]) -> Vec<Result<Value, Failure>> {
        paths
            .iter()
            .map(|p| {
                self.retrieves.get(p).cloned().ok_or_else(|| {
                    Failure::new(
                        Origin::Rest,
                        "NOT_FOUND",
                        "The requested resource does not exist",
                    )
                    .with_status(404)
                })
            })
            .collect()
    }

    async fn list_metadata(
        &self,
        types: &[&str],
    ) -> Result<Vec<crate::salesforce::metadata::Listed>, Failure> {
        assert!(!types.contains(&"ExtlClntAppGlobalOauthSettings"));
        *self.metadata_calls.lock().unwrap() += 1;
        let all = self.metadata.as_ref().ok_or_else(metadata_refused)?;
        if types.iter().any(|t| self.list_refused.contains(t)) {
            return Err(type_refused());
        }
        Ok(all
            .iter()
            .filter(|r| types.contains(&r.metadata_type.as_str()))
            .map(|r| crate::salesforce::metadata::Listed {
                metadata_type: r.metadata_type.clone(),
                full_name: r.fields["fullName"].clone(),
                id: r.fields.get("id").cloned().unwrap_or_default(),
            })
            .collect())
    }

    async fn read_metadata(
        &self,
        metadata_type: &str,
        names: &[String],
    ) -> Result<Vec<crate::salesforce::metadata::Record>, Failure> {
        assert_ne!(metadata_type, "ExtlClntAppGlobalOauthSettings");
        *self.metadata_calls.lock().unwrap() += 1;
        let all = self.metadata.as_ref().ok_or_else(metadata_refused)?;
        if self.read_refused.contains(&metadata_type) {
            return Err(type_refused());
        }
        Ok(all
            .iter()
            .filter(|r| r.metadata_type == metadata_type && names.contains(&r.fields["fullName"]))
            .cloned()
            .collect())
    }
}

/// The sim's answer to a reader with Modify Metadata refused one type
/// (ExtlClntAppOauthSettings without its org setting and user permission).
pub(super) fn type_refused() -> Failure {
    Failure::new(
        Origin::Soap,
        "INSUFFICIENT_ACCESS",
        "insufficient access rights on ExtlClntAppOauthSettings",
    )
    .with_status(500)
}

/// The Metadata API's answer to a user without Modify Metadata.
pub(super) fn metadata_refused() -> Failure {
    Failure::new(
        Origin::Soap,
        "INSUFFICIENT_ACCESS",
        "use of the Metadata API requires a user with the ModifyAllData or ModifyMetadata permissions",
    )
    .with_status(500)
}

pub(super) const USER: &str = "int@acme.example";
const PROFILE: &str = "Minimum Access - API Only Integrations";

pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 3, 0, 0).unwrap()
}

/// A healthy org: API Enabled from 'Salesforce API Integration', a group,
/// an admin-approved app pre-authorized through 'Stripe Integration Access'.
pub(super) fn healthy() -> Canned {
    let mut r: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
    r.insert(
        "Organization",
        vec![rec(
            "Organization",
            "00D000000000001",
            json!({"Name": "Acme", "OrganizationType": "Enterprise Edition", "IsSandbox": false, "TrialExpirationDate": null}),
        )],
    );
    r.insert(
        "User",
        vec![rec(
            "User",
            "005000000000001",
            json!({"Username": USER, "IsActive": true, "UserType": "Standard", "ProfileId": "00e000000000001"}),
        )],
    );
    r.insert(
        "Profile",
        vec![rec(
            "Profile",
            "00e000000000001",
            json!({"Name": PROFILE, "PermissionsApiEnabled": false, "UserLicenseId": "100000000000001"}),
        )],
    );
    r.insert(
        "UserLicense",
        vec![rec(
            "UserLicense",
            "100000000000001",
            json!({"Name": "Salesforce Integration", "MasterLabel": "Salesforce Integration", "LicenseDefinitionKey": "SFDC_INTEGRATION"}),
        )],
    );
    let psa = |id: &str, ps: &str, group: Value| {
        rec(
            "PermissionSetAssignment",
            id,
            json!({"AssigneeId": "005000000000001", "PermissionSetId": ps, "PermissionSetGroupId": group, "IsActive": true, "ExpirationDate": null}),
        )
    };
    r.insert(
        "PermissionSetAssignment",
        vec![
            psa("0Pa000000000000", "0PS00000000prof", Value::Null),
            psa("0Pa000000000001", "0PS000000000001", Value::Null),
            psa("0Pa000000000002", "0PS000000000002", Value::Null),
            psa(
                "0Pa000000000003",
                "0PS00000000grp1",
                json!("0PG000000000001"),
            ),
        ],
    );
    let ps = |id: &str, name: &str, label: &str, api: bool, own: bool, group: Value| {
        rec(
            "PermissionSet",
            id,
            json!({"Name": name, "Label": label, "PermissionsApiEnabled": api, "IsOwnedByProfile": own,
                   "ProfileId": if own { json!("00e000000000001") } else { Value::Null },
                   "PermissionSetGroupId": group}),
        )
    };
    r.insert(
        "PermissionSet",
        vec![
            ps(
                "0PS00000000prof",
                "X00ex00000018ozT_128_09_04_12_1",
                "00ex00000018ozT",
                false,
                true,
                Value::Null,
            ),
            ps(
                "0PS000000000001",
                "Salesforce_API_Integration",
                "Salesforce API Integration",
                true,
                false,
                Value::Null,
            ),
            ps(
                "0PS000000000002",
                "Stripe_Integration_Access",
                "Stripe Integration Access",
                false,
                false,
                Value::Null,
            ),
            ps(
                "0PS00000000grp1",
                "Finance_Integrations",
                "Finance Integrations",
                false,
                false,
                json!("0PG000000000001"),
            ),
        ],
    );
    r.insert(
        "PermissionSetGroup",
        vec![rec(
            "PermissionSetGroup",
            "0PG000000000001",
            json!({"DeveloperName": "Finance_Integrations", "MasterLabel": "Finance Integrations", "Status": "Updated"}),
        )],
    );
    r.insert(
        "ObjectPermissions",
        vec![
            rec("ObjectPermissions", "110000000000001", json!({"ParentId": "0PS000000000002", "SobjectType": "Account", "PermissionsRead": true})),
            rec("ObjectPermissions", "110000000000002", json!({"ParentId": "0PS00000000grp1", "SobjectType": "Opportunity", "PermissionsRead": true})),
        ],
    );
    r.insert(
        "EntityDefinition",
        ["Account", "Opportunity", "Case"]
            .iter()
            .map(|n| rec("EntityDefinition", n, json!({"QualifiedApiName": n})))
            .collect(),
    );
    r.insert(
        "ConnectedApplication",
        vec![rec(
            "ConnectedApplication",
            "0H4000000000001",
            json!({"Name": "sfsmoke CI", "OptionsAllowAdminApprovedUsersOnly": true}),
        )],
    );
    r.insert(
        "SetupEntityAccess",
        vec![rec(
            "SetupEntityAccess",
            "0J0000000000001",
            json!({"ParentId": "0PS000000000002", "SetupEntityId": "0H4000000000001", "SetupEntityType": "ConnectedApplication"}),
        )],
    );
    Canned {
        records: r,
        refuse: Vec::new(),
        session_lost: Vec::new(),
        versions: ["31.0", "45.0", "60.0", "62.0"].map(String::from).to_vec(),
        log: Mutex::new(Vec::new()),
        metadata: Some(Vec::new()),
        ..Canned::default()
    }
}

pub(super) fn target() -> Target {
    Target {
        username: Some(USER.into()),
        user_id: None,
    }
}

pub(super) fn objects() -> Vec<String> {
    vec!["Account".into(), "Opportunity".into(), "Case".into()]
}

pub(super) async fn facts_of(org: &Canned) -> Facts {
    gather(org, &target(), &objects(), true, now()).await
}

pub(super) fn api_disabled() -> Failure {
    Failure::new(
        Origin::Rest,
        "API_DISABLED_FOR_ORG",
        "The REST API is not enabled for this Organization.",
    )
    .with_status(403)
}

pub(super) async fn diagnose_canned(
    org: &Canned,
    failure: &Failure,
    snap: Option<&OrgSnapshot>,
    version: &str,
) -> Diagnosis {
    let facts = facts_of(org).await;
    reason(&facts, failure, snap, version, Flow::password(true))
}

fn set(org: &mut Canned, object: &str, id: &str, field: &str, value: Value) {
    let rows = org.records.get_mut(object).expect("object");
    let row = rows
        .iter_mut()
        .find(|r| r["Id"] == id)
        .unwrap_or_else(|| panic!("{object} {id}"));
    row[field] = value;
}

fn remove(org: &mut Canned, object: &str, id: &str) {
    org.records
        .get_mut(object)
        .expect("object")
        .retain(|r| r["Id"] != id);
}

#[tokio::test]
async fn gather_reads_the_facts() {
    let org = healthy();
    let f = facts_of(&org).await;
    assert!(f.gaps.is_empty(), "{:?}", f.gaps);
    let u = f.user.as_ref().unwrap();
    assert_eq!(u.username, USER);
    assert!(u.active);
    assert_eq!(f.profile.as_ref().unwrap().name, PROFILE);
    assert_eq!(
        f.profile.as_ref().unwrap().own_permission_set_id.as_deref(),
        Some("0PS00000000prof")
    );
    assert_eq!(f.license.as_ref().unwrap().name, "Salesforce Integration");
    // The profile's own permission set is not listed as an assignment.
    assert_eq!(f.assignments.len(), 3);
    assert_eq!(
        f.api_sources(),
        vec!["permission set 'Salesforce API Integration'".to_string()]
    );
    assert_eq!(
        f.object_read["Account"],
        vec!["permission set 'Stripe Integration Access'"]
    );
    assert_eq!(
        f.object_read["Opportunity"],
        vec!["permission set group 'Finance Integrations'"]
    );
    assert!(f.object_read["Case"].is_empty());
    assert_eq!(f.apps.len(), 1);
    assert_eq!(
        f.apps[0].preauthorized_via,
        vec!["permission set 'Stripe Integration Access'"]
    );
    assert_eq!(f.version_range(), Some(("31.0", "62.0")));
    assert_eq!(f.org.as_ref().unwrap().edition, "Enterprise Edition");
    // The user is looked up by a quoted username.
    let log = org.log.lock().unwrap();
    assert!(
        log.iter()
            .any(|q| q.contains("Username = 'int@acme.example'")),
        "{log:?}"
    );
}

#[tokio::test]
async fn healthy_org_has_no_cause() {
    let d = diagnose_canned(&healthy(), &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::NoneFound, "{d}");
}

#[tokio::test]
async fn inactive_user() {
    let mut org = healthy();
    set(
        &mut org,
        "User",
        "005000000000001",
        "IsActive",
        json!(false),
    );
    let f = Failure::new(Origin::OAuth, "invalid_grant", "inactive user").with_status(400);
    let d = diagnose_canned(&org, &f, None, "62.0").await;
    assert_eq!(d.cause, Cause::UserInactive, "{d}");
    assert!(d.explanation.contains("deactivated"));
}

#[tokio::test]
async fn unknown_user() {
    let mut org = healthy();
    org.records.insert("User", vec![]);
    let f = Failure::new(
        Origin::Soap,
        "INVALID_LOGIN",
        "Invalid username, password, security token; or user locked out.",
    );
    let d = diagnose_canned(&org, &f, None, "62.0").await;
    assert_eq!(d.cause, Cause::UserNotFound, "{d}");
}

#[tokio::test]
async fn chatter_free_license() {
    let mut org = healthy();
    set(
        &mut org,
        "UserLicense",
        "100000000000001",
        "Name",
        json!("Chatter Free"),
    );
    set(
        &mut org,
        "UserLicense",
        "100000000000001",
        "LicenseDefinitionKey",
        json!("PID_Chatter"),
    );
    let snap = OrgSnapshot {
        license: "Salesforce Integration".into(),
        ..OrgSnapshot::default()
    };
    let d = diagnose_canned(&org, &api_disabled(), Some(&snap), "62.0").await;
    assert_eq!(d.cause, Cause::LicenseWithoutApi, "{d}");
    assert!(d.explanation.contains("'Chatter Free'"), "{d}");
    assert!(
        d.explanation
            .contains("smoke.lock recorded 'Salesforce Integration'"),
        "{d}"
    );
}

#[tokio::test]
async fn identity_license() {
    let mut org = healthy();
    set(
        &mut org,
        "UserLicense",
        "100000000000001",
        "Name",
        json!("Identity"),
    );
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::LicenseWithoutApi, "{d}");
}

#[tokio::test]
async fn essentials_edition() {
    let mut org = healthy();
    set(
        &mut org,
        "Organization",
        "00D000000000001",
        "OrganizationType",
        json!("Essentials Edition"),
    );
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::EditionWithoutApi, "{d}");
    assert!(d.explanation.contains("Essentials Edition"));
}

#[tokio::test]
async fn professional_edition_only_when_nothing_else_explains() {
    let mut org = healthy();
    set(
        &mut org,
        "Organization",
        "00D000000000001",
        "OrganizationType",
        json!("Professional Edition"),
    );
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::EditionWithoutApi, "{d}");
    assert!(d.fix.contains("add-on"));
    // A user-level cause wins over the unverifiable add-on.
    remove(&mut org, "PermissionSetAssignment", "0Pa000000000001");
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::ApiNotEnabled, "{d}");
}

#[tokio::test]
async fn expired_trial() {
    let mut org = healthy();
    set(
        &mut org,
        "Organization",
        "00D000000000001",
        "OrganizationType",
        json!("Developer Edition"),
    );
    set(
        &mut org,
        "Organization",
        "00D000000000001",
        "TrialExpirationDate",
        json!("2026-11-01T00:00:00.000+0000"),
    );
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::TrialExpired, "{d}");
    assert!(d.explanation.contains("2026-11-01"));
    // A trial that runs on is fine.
    set(
        &mut org,
        "Organization",
        "00D000000000001",
        "TrialExpirationDate",
        json!("2026-12-31T00:00:00.000+0000"),
    );
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::NoneFound, "{d}");
}

#[tokio::test]
async fn no_api_enabled_anywhere() {
    let mut org = healthy();
    remove(&mut org, "PermissionSetAssignment", "0Pa000000000001");
    set(
        &mut org,
        "Profile",
        "00e000000000001",
        "Name",
        json!("Integration (cloned)"),
    );
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::ApiNotEnabled, "{d}");
    assert_eq!(
        d.explanation,
        "profile 'Integration (cloned)' has API Enabled off and no assigned permission set grants it"
    );
    // The fix names the set of this org that grants API Enabled.
    assert!(
        d.fix.starts_with(
            "assign permission set 'Salesforce API Integration' (Salesforce_API_Integration), \
             which grants API Enabled, to 'int@acme.example'"
        ),
        "{d}"
    );
    assert!(
        d.to_string().contains(
            "granting API Enabled in this org: permission set 'Salesforce API Integration'"
        ),
        "{d}"
    );
}

/// The fix offers only sets the org has, says which the user's license
/// rules out, and never falls back to a name the org does not have.
#[tokio::test]
async fn the_fix_names_only_sets_that_exist_and_fit() {
    let mut org = healthy();
    remove(&mut org, "PermissionSetAssignment", "0Pa000000000001");
    let tied = rec(
        "PermissionSet",
        "0PS000000000009",
        json!({"Name": "Emergency_API_Access", "Label": "Emergency API Access", "PermissionsApiEnabled": true,
               "IsOwnedByProfile": false, "ProfileId": null, "PermissionSetGroupId": null, "LicenseId": "100000000000002"}),
    );
    org.records.get_mut("PermissionSet").unwrap().push(tied);
    org.records.get_mut("UserLicense").unwrap().push(rec(
        "UserLicense",
        "100000000000002",
        json!({"Name": "Salesforce", "MasterLabel": "Salesforce", "LicenseDefinitionKey": "SFDC"}),
    ));
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::ApiNotEnabled, "{d}");
    assert!(
        d.fix.contains(
            "Manage Assignments; not 'Emergency API Access' (Emergency_API_Access): it is tied to \
             the 'Salesforce' license and 'int@acme.example' has 'Salesforce Integration')"
        ),
        "{d}"
    );
    assert!(
        d.fix
            .starts_with("assign permission set 'Salesforce API Integration'"),
        "{d}"
    );

    // The org loses that set: nothing assignable is left, and no name is
    // made up.
    remove(&mut org, "PermissionSet", "0PS000000000001");
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert!(!d.to_string().contains("Salesforce API Integration"), "{d}");
    assert!(
        d.fix.starts_with(
            "create a permission set with API Enabled and assign it to 'int@acme.example'"
        ),
        "{d}"
    );

    // Part of the list cannot be read: the fix says so rather than guess.
    org.refuse.push("UserLicense");
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert!(
        d.fix.starts_with(
            "assign a permission set with API Enabled to 'int@acme.example' (the auditor could \
             not list this org's: see evidence)"
        ),
        "{d}"
    );
    assert!(!d.to_string().contains("Emergency API Access"), "{d}");
}

#[tokio::test]
async fn api_enabled_from_profile_or_its_own_permission_set() {
    let mut org = healthy();
    remove(&mut org, "PermissionSetAssignment", "0Pa000000000001");
    set(
        &mut org,
        "Profile",
        "00e000000000001",
        "PermissionsApiEnabled",
        json!(true),
    );
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::NoneFound, "{d}");
    let mut org = healthy();
    remove(&mut org, "PermissionSetAssignment", "0Pa000000000001");
    set(
        &mut org,
        "PermissionSet",
        "0PS00000000prof",
        "PermissionsApiEnabled",
        json!(true),
    );
    let f = facts_of(&org).await;
    assert_eq!(f.api_sources(), vec![format!("profile '{PROFILE}'")]);
}

#[tokio::test]
async fn api_enabled_through_a_group() {
    let mut org = healthy();
    remove(&mut org, "PermissionSetAssignment", "0Pa000000000001");
    set(
        &mut org,
        "PermissionSet",
        "0PS00000000grp1",
        "PermissionsApiEnabled",
        json!(true),
    );
    let f = facts_of(&org).await;
    assert_eq!(
        f.api_sources(),
        vec!["permission set group 'Finance Integrations'".to_string()]
    );
    let d = reason(&f, &api_disabled(), None, "62.0", Flow::password(true));
    assert_eq!(d.cause, Cause::NoneFound, "{d}");
}

/// A snapshot is no baseline when the object permissions could not be
/// read: it would record (and drift would report) "nothing grants Read".
#[tokio::test]
async fn no_snapshot_without_the_object_permissions() {
    let mut org = healthy();
    org.refuse = vec!["ObjectPermissions"];
    let e = OrgSnapshot::from_facts(&facts_of(&org).await).unwrap_err();
    assert!(
        e.message
            .starts_with("ObjectPermissions could not be read: "),
        "{e}"
    );
}

#[tokio::test]
async fn unassigned_permission_set_named_from_the_snapshot() {
    let mut org = healthy();
    let before = OrgSnapshot::from_facts(&facts_of(&org).await).unwrap();
    remove(&mut org, "PermissionSetAssignment", "0Pa000000000001");
    // Without the snapshot: API Enabled is missing, no more can be said.
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::ApiNotEnabled, "{d}");
    // With it: the permission set that granted it is named.
    let d = diagnose_canned(&org, &api_disabled(), Some(&before), "62.0").await;
    assert_eq!(d.cause, Cause::PermissionSetLost, "{d}");
    assert!(
        d.explanation.starts_with(
            "API Enabled was granted by permission set 'Salesforce API Integration' (smoke.lock)"
        ),
        "{d}"
    );
    assert!(
        d.fix
            .contains("assign permission set 'Salesforce API Integration'"),
        "{d}"
    );
}

#[tokio::test]
async fn expired_or_inactive_assignment() {
    let mut org = healthy();
    set(
        &mut org,
        "PermissionSetAssignment",
        "0Pa000000000001",
        "ExpirationDate",
        json!("2026-11-28T00:00:00.000+0000"),
    );
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::PermissionSetLost, "{d}");
    assert!(d.explanation.contains("expired on 2026-11-28"), "{d}");
    let mut org = healthy();
    set(
        &mut org,
        "PermissionSetAssignment",
        "0Pa000000000001",
        "IsActive",
        json!(false),
    );
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::PermissionSetLost, "{d}");
    assert!(d.explanation.contains("assignment inactive"), "{d}");
}

#[tokio::test]
async fn connected_app_without_pre_authorization() {
    let mut org = healthy();
    remove(&mut org, "SetupEntityAccess", "0J0000000000001");
    let f = Failure::new(
        Origin::OAuth,
        "invalid_app_access",
        "user is not admin approved to access this app",
    )
    .with_status(400);
    let d = diagnose_canned(&org, &f, None, "62.0").await;
    assert_eq!(d.cause, Cause::ConnectedAppNotPreAuthorized, "{d}");
    assert!(d.explanation.contains("'sfsmoke CI'"), "{d}");
    // Also named for API_DISABLED_FOR_ORG (the seed: "the app itself denies them").
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::ConnectedAppNotPreAuthorized, "{d}");
    // Pre-authorized through the profile: fine.
    org.records.insert(
        "SetupEntityAccess",
        vec![rec(
            "SetupEntityAccess",
            "0J0000000000002",
            json!({"ParentId": "0PS00000000prof", "SetupEntityId": "0H4000000000001", "SetupEntityType": "ConnectedApplication"}),
        )],
    );
    let d = diagnose_canned(&org, &f, None, "62.0").await;
    assert_ne!(d.cause, Cause::ConnectedAppNotPreAuthorized, "{d}");
    // "user hasn't approved this consumer" with a self-authorize app: the fix
    // is to pre-authorize.
    let mut selfauth = healthy();
    set(
        &mut selfauth,
        "ConnectedApplication",
        "0H4000000000001",
        "OptionsAllowAdminApprovedUsersOnly",
        json!(false),
    );
    let unapproved = Failure::new(
        Origin::OAuth,
        "invalid_grant",
        "user hasn't approved this consumer",
    )
    .with_status(400);
    let d = diagnose_canned(&selfauth, &unapproved, None, "62.0").await;
    assert_eq!(d.cause, Cause::NoneFound, "{d}");
    assert!(
        d.fix.contains("Admin approved users are pre-authorized"),
        "{d}"
    );
    // No External Client App blocks either (its policies were read).
    assert!(
        d.explanation
            .contains("no External Client App blocks it either"),
        "{d}"
    );
    assert!(
        d.fix.contains(
            "Setup > External Client App Manager > the app > Edit Policies > OAuth Policies > Permitted Users"
        ),
        "{d}"
    );
    // A self-authorize app never blocks.
    let mut org = healthy();
    remove(&mut org, "SetupEntityAccess", "0J0000000000001");
    set(
        &mut org,
        "ConnectedApplication",
        "0H4000000000001",
        "OptionsAllowAdminApprovedUsersOnly",
        json!(false),
    );
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::NoneFound, "{d}");
}

#[tokio::test]
async fn soap_login_ignores_connected_apps() {
    let mut org = healthy();
    remove(&mut org, "SetupEntityAccess", "0J0000000000001");
    let facts = gather(&org, &target(), &objects(), false, now()).await;
    assert!(facts.apps.is_empty());
    let d = reason(&facts, &api_disabled(), None, "62.0", Flow::password(false));
    assert_eq!(d.cause, Cause::NoneFound, "{d}");
}

#[tokio::test]
async fn retired_api_version() {
    let org = healthy();
    let f = Failure::new(
        Origin::Rest,
        "NOT_FOUND",
        "The requested resource does not exist",
    )
    .with_status(410);
    let d = diagnose_canned(&org, &f, None, "25.0").await;
    assert_eq!(d.cause, Cause::ApiVersionUnsupported, "{d}");
    assert!(d.explanation.contains("31.0 to 62.0"), "{d}");
    assert!(d.fix.contains("api_version = \"62.0\""), "{d}");
    // Too new is outside the range too.
    let d = diagnose_canned(&org, &api_disabled(), None, "66.0").await;
    assert_eq!(d.cause, Cause::ApiVersionUnsupported, "{d}");
}

#[tokio::test]
async fn object_without_read() {
    let org = healthy();
    let f = Failure::new(
        Origin::Rest,
        "INVALID_TYPE",
        "\nSELECT Id FROM Case LIMIT 1\n               ^\nERROR at Row:1:Column:16\nsObject type 'Case' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
    )
    .with_status(400);
    let d = diagnose_canned(&org, &f, None, "62.0").await;
    assert_eq!(d.cause, Cause::ObjectNotReadable, "{d}");
    assert!(d.explanation.contains("Read on Case"), "{d}");
    // A readable object refused is something else (a typo, a license).
    let f2 = Failure::new(
        Origin::Rest,
        "INVALID_TYPE",
        "sObject type 'Account' is not supported.",
    );
    let d = diagnose_canned(&org, &f2, None, "62.0").await;
    assert_eq!(d.cause, Cause::NoneFound, "{d}");
    assert!(
        d.explanation.starts_with(
            "Account exists and Read on it is granted by permission set 'Stripe Integration Access'"
        ),
        "{d}"
    );
    assert!(
        d.explanation
            .contains("the refusal is not this object's Read"),
        "{d}"
    );
    assert!(d.fix.contains("Set Field-Level Security"), "{d}");
    // Exists (EntityDefinition), no Read: said so.
    let d = diagnose_canned(&org, &f, None, "62.0").await;
    assert!(
        d.explanation
            .starts_with("Case exists in this org, but neither"),
        "{d}"
    );
}

/// INVALID_TYPE on an object the org does not have is not a missing Read.
#[tokio::test]
async fn object_not_in_this_org() {
    let mut org = healthy();
    remove(&mut org, "EntityDefinition", "Case");
    let f = Failure::new(
        Origin::Rest,
        "INVALID_TYPE",
        "sObject type 'Case' is not supported.",
    );
    let d = diagnose_canned(&org, &f, None, "62.0").await;
    assert_eq!(d.cause, Cause::ObjectNotFound, "{d}");
    assert!(
        d.explanation
            .contains("no object with the API name 'Case' exists in this org"),
        "{d}"
    );
    assert!(
        d.evidence
            .contains(&"object Case: not in this org (no EntityDefinition)".to_string()),
        "{d}"
    );
    // Unread is not absent: without the answer it stays "not readable".
    org.refuse.push("EntityDefinition");
    let d = diagnose_canned(&org, &f, None, "62.0").await;
    assert_eq!(d.cause, Cause::ObjectNotReadable, "{d}");
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("could not read EntityDefinition")),
        "{d}"
    );
}

#[tokio::test]
async fn the_failure_decides_between_causes_that_both_hold() {
    let mut org = healthy();
    remove(&mut org, "PermissionSetAssignment", "0Pa000000000001");
    let version = Failure::new(
        Origin::Soap,
        "UNSUPPORTED_API_VERSION",
        "UNSUPPORTED_API_VERSION",
    );
    let d = diagnose_canned(&org, &version, None, "25.0").await;
    assert_eq!(d.cause, Cause::ApiVersionUnsupported, "{d}");
    assert!(d.explanation.contains("also: profile"), "{d}");
    let d = diagnose_canned(&org, &api_disabled(), None, "25.0").await;
    assert_eq!(d.cause, Cause::ApiNotEnabled, "{d}");
}

#[tokio::test]
async fn auditor_without_view_setup() {
    let mut org = healthy();
    org.refuse = vec![
        "PermissionSetAssignment",
        "PermissionSet",
        "ObjectPermissions",
        "ConnectedApplication",
        "SetupEntityAccess",
    ];
    let d = diagnose_canned(&org, &api_disabled(), None, "62.0").await;
    assert_eq!(d.cause, Cause::AuditorCannotSee, "{d}");
    assert!(d.fix.contains("View Setup and Configuration"));
    assert!(d.evidence.iter().any(|e| e.contains("INVALID_TYPE")), "{d}");
}

/// No evidence line says a fact is absent when its query failed, and each
/// failed query is told once.
fn no_absent_fact_claimed(d: &Diagnosis) {
    for e in &d.evidence {
        assert!(
            !e.contains("not found")
                && !e.contains("no user matches")
                && !e.contains("no permission set assigned"),
            "{e}\n{d}"
        );
    }
    let told = d
        .evidence
        .iter()
        .filter(|e| e.contains("INVALID_SESSION_ID"))
        .count();
    assert!(told >= 1, "{d}");
}

#[tokio::test]
async fn a_failed_user_query_is_not_a_missing_user() {
    let mut org = healthy();
    org.session_lost = vec!["User"];
    let f = Failure::new(
        Origin::Soap,
        "INVALID_LOGIN",
        "Invalid username, password, security token; or user locked out.",
    );
    let d = diagnose_canned(&org, &f, None, "62.0").await;
    assert_eq!(d.cause, Cause::AuditorCannotSee, "{d}");
    assert!(
        d.evidence.contains(&format!(
            "user: could not read User (INVALID_SESSION_ID: Session expired or invalid), so user '{USER}' could not be checked"
        )),
        "{d}"
    );
    no_absent_fact_claimed(&d);
    assert_eq!(
        d.evidence
            .iter()
            .filter(|e| e.contains("INVALID_SESSION_ID"))
            .count(),
        1,
        "{d}"
    );
    // Not a permission problem: "give the auditor View Setup" would mislead.
    assert!(!d.fix.contains("View Setup"), "{d}");
    assert!(d.fix.contains("INVALID_SESSION_ID"), "{d}");
    // The same query answered with zero rows is a missing user.
    let mut org = healthy();
    org.records.insert("User", vec![]);
    let d = diagnose_canned(&org, &f, None, "62.0").await;
    assert_eq!(d.cause, Cause::UserNotFound, "{d}");
    assert!(
        d.evidence
            .contains(&format!("user: no user matches user '{USER}'")),
        "{d}"
    );
}

#[tokio::test]
async fn every_gathered_fact_tells_a_failed_query_from_an_absent_fact() {
    let cases: [(&str, &str); 7] = [
        ("Organization", "org: could not read Organization (INVALID_SESSION_ID"),
        ("Profile", "profile: could not read Profile (INVALID_SESSION_ID"),
        ("UserLicense", "license: could not read UserLicense (INVALID_SESSION_ID"),
        (
            "PermissionSetAssignment",
            "permission set assignments: could not read PermissionSetAssignment (INVALID_SESSION_ID",
        ),
        ("PermissionSet", "permission sets: could not read PermissionSet (INVALID_SESSION_ID"),
        (
            "ConnectedApplication",
            "Connected Apps: could not read ConnectedApplication (INVALID_SESSION_ID",
        ),
        (
            "SetupEntityAccess",
            "Connected App pre-authorizations: could not read SetupEntityAccess (INVALID_SESSION_ID",
        ),
    ];
    for (object, line) in cases {
        let mut org = healthy();
        org.session_lost = vec![object];
        // Otherwise healthy: the failed query is the only thing standing
        // between us and "no known cause holds", which it must not claim.
        let app = Failure::new(
            Origin::OAuth,
            "invalid_app_access",
            "user is not admin approved to access this app",
        )
        .with_status(400);
        for failure in [api_disabled(), app] {
            let d = diagnose_canned(&org, &failure, None, "62.0").await;
            assert!(
                d.evidence.iter().any(|e| e.starts_with(line)),
                "{object}: {d}"
            );
            no_absent_fact_claimed(&d);
            assert_ne!(d.cause, Cause::NoneFound, "{object}: {d}");
            if object == "SetupEntityAccess" {
                // An unreadable pre-authorization list is not an empty one.
                assert_ne!(d.cause, Cause::ConnectedAppNotPreAuthorized, "{d}");
                assert!(
                    d.evidence
                        .iter()
                        .any(|e| e.contains("pre-authorization unknown")),
                    "{d}"
                );
                assert!(
                    d.evidence
                        .iter()
                        .all(|e| !e.contains("user not pre-authorized")),
                    "{d}"
                );
            }
            if object == "PermissionSet" {
                assert!(
                    d.evidence
                        .iter()
                        .all(|e| !e.contains("API Enabled off") || e.starts_with("profile")),
                    "{d}"
                );
            }
        }
    }
}

#[tokio::test]
async fn flows_without_a_username_check_the_org_only() {
    let mut org = healthy();
    set(
        &mut org,
        "Organization",
        "00D000000000001",
        "OrganizationType",
        json!("Essentials Edition"),
    );
    let facts = gather(&org, &Target::default(), &objects(), true, now()).await;
    assert!(facts.user.is_none());
    let d = reason(&facts, &api_disabled(), None, "62.0", Flow::password(true));
    assert_eq!(d.cause, Cause::EditionWithoutApi, "{d}");
    let facts = gather(&healthy(), &Target::default(), &objects(), true, now()).await;
    let d = reason(&facts, &api_disabled(), None, "62.0", Flow::password(true));
    // Not "no access problem found": the user's access was never looked at.
    assert_eq!(d.cause, Cause::UserUnknown, "{d}");
    assert!(d.explanation.contains("names no user"), "{d}");
    assert!(d.explanation.contains("API_DISABLED_FOR_ORG"), "{d}");
    assert!(d.fix.contains("Run As user"), "{d}");
    assert!(
        d.evidence
            .contains(&"user: not looked up (this auth flow names no user)".to_string()),
        "{d}"
    );
    // An app refusal is still told apart through the app's policy, without
    // claiming anything about a user nobody looked up.
    let refused = Failure::new(
        Origin::OAuth,
        "invalid_app_access",
        "user is not admin approved to access this app",
    )
    .with_status(400);
    let d = reason(&facts, &refused, None, "62.0", Flow::password(true));
    assert_eq!(d.cause, Cause::ConnectedAppNotPreAuthorized, "{d}");
    assert!(d.explanation.contains("'sfsmoke CI'"), "{d}");
    assert!(
        d.evidence
            .contains(&"Connected App 'sfsmoke CI': admin-approved users only".to_string()),
        "{d}"
    );
    let mut selfauth = healthy();
    set(
        &mut selfauth,
        "ConnectedApplication",
        "0H4000000000001",
        "OptionsAllowAdminApprovedUsersOnly",
        json!(false),
    );
    let facts = gather(&selfauth, &Target::default(), &objects(), true, now()).await;
    let d = reason(&facts, &refused, None, "62.0", Flow::password(true));
    assert_eq!(d.cause, Cause::UserUnknown, "{d}");
    // the Run As user lives in either kind of app: both paths are named
    for path in [
        "Setup > App Manager > the app > Manage > Edit Policies > Client Credentials Flow",
        "Setup > External Client App Manager > the app > Edit Policies > OAuth Policies",
    ] {
        assert!(d.fix.contains(path), "{path}: {d}");
    }
}

#[tokio::test]
async fn rendering_names_cause_fix_and_evidence() {
    let mut org = healthy();
    remove(&mut org, "PermissionSetAssignment", "0Pa000000000001");
    let text = diagnose_canned(&org, &api_disabled(), None, "62.0")
        .await
        .to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "diagnosis: API Enabled not granted");
    assert!(lines[1].starts_with("cause: profile '"), "{text}");
    assert!(
        lines[2].starts_with("fix: assign permission set 'Salesforce API Integration'"),
        "{text}"
    );
    assert!(text.contains("  - org: Enterprise Edition"), "{text}");
    assert!(
        text.contains("  - permission set 'Stripe Integration Access': API Enabled off"),
        "{text}"
    );
}

#[test]
fn titles_are_unique() {
    let mut seen = std::collections::BTreeSet::new();
    for c in Cause::ALL {
        assert!(seen.insert(c.title()), "{c:?}");
    }
}

fn by_hand(f: &Failure) -> String {
    manual_checks("prod", f, Why::NoAuditor)
}

#[test]
fn manual_checks_name_the_org_section() {
    let text = manual_checks("eu-prod_2", &api_disabled(), Why::NoAuditor);
    assert!(text.starts_with("no auditor configured"), "{text}");
    assert!(
        text.contains("add an auditor login as [orgs.eu-prod_2.diagnose], with"),
        "{text}"
    );
    assert!(!text.contains("<name>"), "{text}");
}

#[test]
fn a_failed_auditor_login_is_not_called_a_missing_auditor() {
    let refused = Failure::new(
        Origin::Soap,
        "INVALID_LOGIN",
        "Invalid username, password, security token; or user locked out.",
    )
    .with_status(500);
    let text = manual_checks(
        "staging",
        &api_disabled(),
        Why::AuditorLoginFailed(&refused),
    );
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        "the auditor login failed (INVALID_LOGIN: Invalid username, password, security token; \
         or user locked out), so here are the checks to do by hand:",
        "{text}"
    );
    assert!(!text.contains("no auditor configured"), "{text}");
    assert!(text.contains("1. log in to the Salesforce UI"), "{text}");
    assert!(
        text.contains("(hint: fix the auditor's credentials in [orgs.staging.diagnose]"),
        "{text}"
    );
    let cut = Failure::new(
        Origin::Timeout,
        "TIMEOUT",
        "the diagnosis had not finished when the run's deadline passed",
    );
    let text = manual_checks("staging", &api_disabled(), Why::CutShort(&cut));
    assert!(
        text.starts_with("the diagnosis was cut short (TIMEOUT: the diagnosis had not finished"),
        "{text}"
    );
    assert!(!text.contains("auditor login failed"), "{text}");
    assert!(text.contains("deadline_secs"), "{text}");
}

#[test]
fn manual_checks_follow_the_seed_order_and_the_failure() {
    let text = manual_checks("prod", &api_disabled(), Why::NoAuditor);
    let pos = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle} in {text}"))
    };
    // The seed's four: UI login, profile, permission sets, edition.
    assert!(
        pos("1. log in to the Salesforce UI") < pos("2. \"API Enabled\" on the user's profile")
    );
    assert!(pos("2. \"API Enabled\"") < pos("3. the user's permission sets"));
    assert!(pos("3. the user's permission sets") < pos("4. the org's edition"));
    assert!(text.contains("Setup > Company Settings > Company Information"));
    let app = by_hand(&Failure::new(
        Origin::OAuth,
        "invalid_app_access",
        "user is not admin approved to access this app",
    ));
    assert!(
        app.contains("1. the app's policy. Connected App: Setup > App Manager"),
        "{app}"
    );
    assert!(
        app.contains("External Client App: Setup > External Client App Manager"),
        "{app}"
    );
    let ver = by_hand(&Failure::new(Origin::Rest, "NOT_FOUND", "gone").with_status(410));
    assert!(ver.contains("1. the API version"), "{ver}");
    let login = by_hand(&Failure::new(
        Origin::Soap,
        "INVALID_LOGIN",
        "Invalid username, password, security token; or user locked out.",
    ));
    assert!(login.contains("2. the credentials"), "{login}");
    let obj = by_hand(&Failure::new(
        Origin::Rest,
        "INVALID_TYPE",
        "sObject type 'Case' is not supported.",
    ));
    assert!(obj.contains("1. the object: its API name"), "{obj}");
}

#[test]
fn applies_only_to_the_access_family() {
    assert!(applies_to(&api_disabled()));
    assert!(applies_to(&Failure::new(
        Origin::Rest,
        "API_CURRENTLY_DISABLED",
        "API is disabled for this User"
    )));
    assert!(applies_to(&Failure::new(
        Origin::OAuth,
        "invalid_grant",
        "authentication failure"
    )));
    assert!(!applies_to(&Failure::new(
        Origin::Rest,
        "REQUEST_LIMIT_EXCEEDED",
        "TotalRequests Limit exceeded."
    )));
    assert!(!applies_to(&Failure::new(
        Origin::Network,
        "NETWORK_ERROR",
        "connection refused"
    )));
    assert!(!applies_to(&Failure::new(
        Origin::Rest,
        "MALFORMED_QUERY",
        "unexpected token"
    )));
    // A field that is not there for the user (hidden or not defined) is
    // diagnosed; INVALID_FIELD about anything else is not.
    let no_column = Failure::new(
        Origin::Rest,
        "INVALID_FIELD",
        "No such column 'Amount' on entity 'Opportunity'.",
    );
    assert_eq!(Family::of(&no_column), Family::Field);
    assert!(!applies_to(&Failure::new(
        Origin::Rest,
        "INVALID_FIELD",
        "duplicate field selected: Name"
    )));
    assert!(
        manual_checks("prod", &no_column, Why::NoAuditor).starts_with(
            "no auditor configured: check by hand, in this order\n1. the field: its API name"
        )
    );
}

#[test]
fn soql_literals_are_escaped() {
    assert_eq!(soql_quote("o'brien@x.com"), r"'o\'brien@x.com'");
    assert_eq!(soql_quote(r"a\b"), r"'a\\b'");
}

#[test]
fn salesforce_datetimes_parse() {
    let d = parse_datetime("2026-01-31T12:00:00.000+0000").unwrap();
    assert_eq!(d, Utc.with_ymd_and_hms(2026, 1, 31, 12, 0, 0).unwrap());
    assert!(parse_datetime("2026-01-31").is_some());
    assert!(parse_datetime("2026-01-31T12:00:00Z").is_some());
    assert!(parse_datetime("yesterday").is_none());
}

#[test]
fn an_auditor_refused_too_means_the_whole_org() {
    let refused = Failure::new(
        Origin::Soap,
        "API_DISABLED_FOR_ORG",
        "API is not enabled for this Organization or Partner",
    )
    .with_status(500);
    let d = org_refuses_everyone(&api_disabled(), &refused, None).unwrap();
    assert_eq!(d.cause, Cause::EditionWithoutApi, "{d}");
    let trial = OrgSnapshot {
        edition: "Developer Edition".into(),
        trial_expires: "2026-12-01".into(),
        ..OrgSnapshot::default()
    };
    let d = org_refuses_everyone(&api_disabled(), &refused, Some(&trial)).unwrap();
    assert_eq!(d.cause, Cause::TrialExpired, "{d}");
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("trial until 2026-12-01")),
        "{d}"
    );
    // A wrong auditor password says nothing about the org.
    let bad = Failure::new(
        Origin::Soap,
        "INVALID_LOGIN",
        "Invalid username, password, security token; or user locked out.",
    );
    assert!(org_refuses_everyone(&api_disabled(), &bad, None).is_none());
}

/// [`Canned`] that can batch: `query_many` answers each query as `query`
/// does and counts the rounds (one composite each).
struct Batching<'a> {
    org: &'a Canned,
    rounds: Mutex<Vec<usize>>,
}

impl SetupQuery for Batching<'_> {
    fn api_version(&self) -> Option<String> {
        self.org.api_version()
    }
    async fn query(&self, soql: &str) -> Result<Vec<Value>, Failure> {
        self.org.query(soql).await
    }
    async fn count(&self, soql: &str) -> Result<u64, Failure> {
        self.org.count(soql).await
    }
    async fn versions(&self) -> Result<Vec<String>, Failure> {
        self.org.versions().await
    }
    async fn get_many(&self, paths: &[String]) -> Vec<Result<Value, Failure>> {
        self.org.get_many(paths).await
    }
    async fn list_metadata(
        &self,
        types: &[&str],
    ) -> Result<Vec<crate::salesforce::metadata::Listed>, Failure> {
        self.org.list_metadata(types).await
    }
    async fn read_metadata(
        &self,
        metadata_type: &str,
        names: &[String],
    ) -> Result<Vec<crate::salesforce::metadata::Record>, Failure> {
        self.org.read_metadata(metadata_type, names).await
    }
    async fn query_many(&self, soqls: &[String]) -> Option<Vec<Result<Vec<Value>, Failure>>> {
        self.rounds.lock().unwrap().push(soqls.len());
        let mut out = Vec::new();
        for q in soqls {
            out.push(self.org.query(q).await);
        }
        Some(out)
    }
}

/// Fetching ahead changes nothing the facts say, healthy or with setup
/// objects refused, and takes two rounds of at most five queries (three
/// when an object is unreadable) with no single query after them.
#[tokio::test]
async fn batched_gathering_finds_the_same_facts_in_two_rounds() {
    let mut refused = healthy();
    refused.refuse = vec!["ObjectPermissions", "UserLicense"];
    for org in [healthy(), refused] {
        for (target, with_apps) in [
            (target(), true),
            (
                Target {
                    username: None,
                    user_id: Some("005000000000001".into()),
                },
                false,
            ),
            (Target::default(), true),
        ] {
            let one_by_one = gather(&org, &target, &objects(), with_apps, now()).await;
            let singles = org.log.lock().unwrap().len();
            org.log.lock().unwrap().clear();
            let batching = Batching {
                org: &org,
                rounds: Mutex::new(Vec::new()),
            };
            let batched = gather(&batching, &target, &objects(), with_apps, now()).await;
            assert_eq!(format!("{batched:?}"), format!("{one_by_one:?}"));
            let rounds = batching.rounds.lock().unwrap().clone();
            // A third round only when a configured object has no Read
            // grant (here 'Case'): does it exist, and what grants Read on
            // it in this org?
            let lazy = usize::from(!batched.object_exists.is_empty());
            assert!(rounds.len() <= 2 + lazy, "{rounds:?}");
            // At most 5 queries a round, but for the External Client Apps'
            // pre-authorizations, which join round two (the source splits a
            // round past the composite's 5 queries: Source::query_many).
            assert!(rounds.iter().all(|n| *n <= 6), "{rounds:?}");
            let fetched: usize = rounds.iter().sum();
            // Every query it ran came from a round (none after them).
            assert_eq!(org.log.lock().unwrap().len(), fetched, "{target:?}");
            assert!(fetched >= singles.min(1), "{rounds:?}");
            org.log.lock().unwrap().clear();
        }
    }
}

fn trail_row(id: &str, display: &str, at: DateTime<Utc>, delegate: Option<&str>) -> Value {
    rec(
        "SetupAuditTrail",
        id,
        json!({"Action": "undocumentedCode", "Section": "Manage Users", "Display": display,
               "CreatedDate": at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
               "CreatedBy": {"attributes": {"type": "User"}, "Name": "Ada Admin", "Username": "admin@acme.example"},
               "DelegateUser": delegate}),
    )
}

/// Who and when: only entries naming what the diagnosis implicates, newest
/// first, absolute UTC and relative; an unrelated recent entry never.
#[tokio::test]
async fn the_audit_trail_names_who_changed_it_and_when() {
    let mut org = healthy();
    set(
        &mut org,
        "User",
        "005000000000001",
        "Name",
        json!("Integration Bot"),
    );
    remove(&mut org, "PermissionSetAssignment", "0Pa000000000001");
    let at = now() - chrono::Duration::hours(7);
    org.records.insert(
        "SetupAuditTrail",
        vec![
            trail_row("0Ym1", "Changed picklist values for Opportunity field Stage", now() - chrono::Duration::minutes(5), None),
            trail_row(
                "0Ym2",
                "Permission set Salesforce API Integration: unassigned from user Integration Bot (int@acme.example)",
                at,
                Some("grace@acme.example"),
            ),
            trail_row("0Ym3", "Changed profile Minimum Access - Salesforce: API Enabled was changed from True to False", at, None),
            // Before the window: dropped even if a server sends it.
            trail_row("0Ym4", "Deactivated user Integration Bot (int@acme.example)", now() - chrono::Duration::days(9), None),
        ],
    );
    let mut facts = facts_of(&org).await;
    let since = now() - chrono::Duration::days(7);
    facts.trail = Some(read_trail(&org, since).await.expect("trail"));
    assert_eq!(facts.trail.as_ref().unwrap().entries.len(), 3);
    let q = org.log.lock().unwrap().last().cloned().unwrap();
    assert!(
        q.contains("WHERE CreatedDate >= 2026-11-22T03:00:00Z ORDER BY CreatedDate DESC"),
        "{q}"
    );
    let d = reason(&facts, &api_disabled(), None, "62.0", Flow::password(true));
    assert_eq!(d.cause, Cause::ApiNotEnabled, "{d}");
    assert_eq!(
        d.changes,
        vec![
            "changed by grace@acme.example logged in as Ada Admin (admin@acme.example) at \
              2026-11-28 20:00 UTC (7 h ago): Permission set Salesforce API Integration: \
              unassigned from user Integration Bot (int@acme.example)"
                .to_string()
        ],
        "{d}"
    );
    let text = d.to_string();
    assert!(!text.contains("picklist"), "{text}");
    assert!(
        !text.contains("Minimum Access - Salesforce"),
        "another profile: {text}"
    );
    assert!(
        text.lines().nth(2).unwrap().starts_with("changed by "),
        "{text}"
    );

    // Nothing in the window names them: said so, with the window.
    facts
        .trail
        .as_mut()
        .unwrap()
        .entries
        .retain(|e| e.display.contains("picklist"));
    let d = reason(&facts, &api_disabled(), None, "62.0", Flow::password(true));
    assert_eq!(d.changes.len(), 1);
    assert!(
        d.changes[0].starts_with(
            "who changed it: no Setup Audit Trail entry since 2026-11-22 03:00 UTC mentions "
        ),
        "{d}"
    );
    assert!(d.changes[0].contains("'int@acme.example'"), "{d}");

    // Unreadable: which permission would show it.
    org.refuse.push("SetupAuditTrail");
    let gap = read_trail(&org, since).await.unwrap_err();
    facts.trail = None;
    facts.gaps.push(gap);
    let d = reason(&facts, &api_disabled(), None, "62.0", Flow::password(true));
    assert!(
        d.changes[0]
            .contains("give the auditor \"View Setup and Configuration\" to see who changed it"),
        "{d}"
    );
    // A hidden field is the same missing permission (one list of codes).
    facts.gaps.last_mut().unwrap().failure.code = "INVALID_FIELD".into();
    let d = reason(&facts, &api_disabled(), None, "62.0", Flow::password(true));
    assert!(
        d.changes[0].contains("give the auditor \"View Setup"),
        "{d}"
    );
    // A cause that is no admin's change names no one.
    assert!(super::trail::lines(Cause::ApiVersionUnsupported, &facts, None).is_empty());
}

#[test]
fn names_match_whole() {
    use super::trail::{ago, mentions};
    assert!(mentions(
        "Deactivated user Integration User (int@acme.example)",
        "int@acme.example"
    ));
    assert!(mentions(
        "Changed profile Integration User: x",
        "integration user"
    ));
    assert!(!mentions(
        "Changed profile Integration Users: x",
        "Integration User"
    ));
    assert!(!mentions(
        "Permission set Stripe Integration Access_2",
        "Stripe Integration Access"
    ));
    assert_eq!(ago(chrono::Duration::minutes(20)), "20 min ago");
    assert_eq!(ago(chrono::Duration::hours(7)), "7 h ago");
    assert_eq!(ago(chrono::Duration::days(3)), "3 days ago");
}

/// `prod`, password login, no auditor: what `explain` needs of an org.
fn org_without_auditor() -> crate::config::OrgConfig {
    use crate::config::{Auth, OrgConfig};
    OrgConfig {
        name: "prod".into(),
        login_url: url::Url::parse("https://login.example").unwrap(),
        api_version: "62.0".into(),
        auth: Auth::SoapPassword {
            username: "integration@acme.example".into(),
            password: crate::secret::Secret::new("pw"),
            security_token: None,
        },
        objects: vec![],
        checks: vec![],
        min_rows: 0,
        ca_file: None,
        diagnose: None,
    }
}

/// A TOO_FEW_ROWS whose query the auditor never ran gets the checks to do by
/// hand (it read as "the auditor sees 0 rows too: no data").
#[test]
fn rows_the_auditor_never_counted_are_checked_by_hand() {
    use crate::checks::RowsShort;
    let org = org_without_auditor();
    let failure = RowsShort { want: 10, got: 5 }.failure("");
    let soql = "SELECT Id FROM Opportunity";
    let round = Round::Gathered(Box::default());
    let text = explain(&org, &failure, Some(soql), Some(&round), None);
    assert!(
        text.starts_with("the auditor did not count the check's rows"),
        "{text}"
    );
    assert!(
        text.contains("1. run the check's query as an admin"),
        "{text}"
    );
    assert!(!text.contains("the auditor sees"), "{text}");
}

/// The healthy org with `extra` asked for, on Account and Opportunity (both
/// readable).
async fn gather_extra(org: &Canned, extra: &Extra) -> Facts {
    let objects = vec!["Account".to_string(), "Opportunity".to_string()];
    gather_with(org, &target(), &objects, false, now(), extra).await
}

/// Extra::fields: the checks' fields and what in force grants Read on each
/// (FieldPermissions of the user's sets).
#[tokio::test]
async fn extra_fields_reads_who_grants_read_on_each_field() {
    let mut org = healthy();
    org.records.insert(
        "FieldPermissions",
        vec![
            rec("FieldPermissions", "01k000000000001", json!({"ParentId": "0PS00000000grp1", "SobjectType": "Opportunity", "Field": "Opportunity.Amount", "PermissionsRead": true})),
            rec("FieldPermissions", "01k000000000002", json!({"ParentId": "0PS000000000002", "SobjectType": "Opportunity", "Field": "Opportunity.StageName", "PermissionsRead": false})),
        ],
    );
    let extra = Extra {
        fields: vec!["Opportunity.Amount".into(), "Opportunity.StageName".into()],
        ..Extra::default()
    };
    let f = gather_extra(&org, &extra).await;
    assert_eq!(
        f.field_read["Opportunity.Amount"],
        vec!["permission set group 'Finance Integrations'"]
    );
    assert!(
        f.field_read["Opportunity.StageName"].is_empty(),
        "{:?}",
        f.field_read
    );
    // Named by the checks, not refused: no FieldDefinition look-up.
    assert!(f.field_exists.is_empty(), "{:?}", f.field_exists);
    assert!(f.gaps.is_empty(), "{:?}", f.gaps);
}

/// Extra::lookup: an unreadable object makes the audit ask whether the sets
/// smoke.lock names still exist.
#[tokio::test]
async fn extra_lookup_says_which_recorded_sets_still_exist() {
    let extra = Extra {
        lookup: vec![
            "permission set 'Stripe Integration Access'".into(),
            "permission set 'Deleted Read Access'".into(),
            "permission set group 'Finance Integrations'".into(),
            "profile 'System Administrator'".into(),
        ],
        ..Extra::default()
    };
    // Case: nothing grants Read on it.
    let f = gather_with(&healthy(), &target(), &objects(), false, now(), &extra).await;
    let exists = |src: &str| f.grants_exist.get(src).copied();
    assert_eq!(
        exists("permission set 'Stripe Integration Access'"),
        Some(true)
    );
    assert_eq!(exists("permission set 'Deleted Read Access'"), Some(false));
    assert_eq!(
        exists("permission set group 'Finance Integrations'"),
        Some(true)
    );
    assert_eq!(
        exists("profile 'System Administrator'"),
        None,
        "a profile is not looked up"
    );
    // Everything readable and no hidden field: nothing to ask.
    let f = gather_extra(&healthy(), &extra).await;
    assert!(f.grants_exist.is_empty(), "{:?}", f.grants_exist);
}

/// Extra::rows: the auditor's count of each short check's query, the
/// object's org-wide default and what grants View All on it.
#[tokio::test]
async fn extra_rows_counts_the_query_and_reads_the_sharing() {
    let mut org = healthy();
    org.records.insert(
        "Opportunity",
        ["006000000000001", "006000000000002", "006000000000003"]
            .iter()
            .map(|id| rec("Opportunity", id, json!({})))
            .collect(),
    );
    org.records.insert(
        "EntityDefinition",
        vec![rec("EntityDefinition", "Opportunity", json!({"QualifiedApiName": "Opportunity", "InternalSharingModel": "Private", "ExternalSharingModel": "Private"}))],
    );
    org.records.get_mut("ObjectPermissions").unwrap().push(rec(
        "ObjectPermissions",
        "110000000000009",
        json!({"ParentId": "0PS000000000009", "SobjectType": "Opportunity", "Parent": {"Label": "Sales Ops Read All", "IsOwnedByProfile": false, "PermissionSetGroupId": null}}),
    ));
    let soql = "SELECT Id FROM Opportunity WHERE StageName = 'Open'";
    let extra = Extra {
        rows: vec![soql.into()],
        ..Extra::default()
    };
    let f = gather_extra(&org, &extra).await;
    assert_eq!(
        f.rows_seen.get(soql).map(|r| r.as_ref().ok()),
        Some(Some(&3))
    );
    assert_eq!(
        f.sharing_model.get("Opportunity").map(String::as_str),
        Some("Private")
    );
    assert_eq!(
        f.view_all_grantors["Opportunity"],
        vec!["permission set 'Sales Ops Read All'"]
    );
    // Without short checks none of it is read.
    let f = gather_extra(&org, &Extra::default()).await;
    assert!(f.rows_seen.is_empty() && f.sharing_model.is_empty());
}

/// A refused field nothing grants Read on, its object readable: the sets
/// smoke.lock says granted Read on the field are looked up too, so a deleted
/// one reads as deleted (the look-up ran only for an unreadable object).
#[tokio::test]
async fn a_hidden_field_looks_up_the_sets_smoke_lock_recorded_for_it() {
    let mut org = healthy();
    org.records.insert(
        "FieldDefinition",
        vec![rec(
            "FieldDefinition",
            "Opportunity.Amount",
            json!({"QualifiedApiName": "Amount"}),
        )],
    );
    let extra = Extra {
        refused_fields: vec!["Opportunity.Amount".into()],
        lookup: vec![
            "permission set 'Amount Readers'".into(),
            "permission set 'Stripe Integration Access'".into(),
        ],
        ..Extra::default()
    };
    let f = gather_extra(&org, &extra).await;
    assert!(f.field_read["Opportunity.Amount"].is_empty());
    assert_eq!(f.field_exists.get("Opportunity.Amount"), Some(&true));
    let exists = |src: &str| f.grants_exist.get(src).copied();
    assert_eq!(
        exists("permission set 'Amount Readers'"),
        Some(false),
        "{:?}",
        f.grants_exist
    );
    assert_eq!(
        exists("permission set 'Stripe Integration Access'"),
        Some(true)
    );
}

/// `diagnose()` and `explain()` agree on a `TOO_FEW_ROWS`: both run the
/// check's query as the auditor ([`super::rows`]).
#[test]
fn diagnose_and_explain_agree_on_too_few_rows() {
    let org = org_without_auditor();
    let q = "SELECT Id FROM Opportunity";
    let failure = Failure::new(
        Origin::Sfsmoke,
        crate::codes::TOO_FEW_ROWS,
        "expected at least 1 row, got 0: the query ran",
    );
    let mut facts = Facts::default();
    facts.rows_seen.insert(q.into(), Ok(12));
    let round = Round::Gathered(Box::new(facts));
    let d = diagnose(&org, &failure, Some(q), &round, None).expect("gathered");
    assert_eq!(d.cause, Cause::RecordsHidden, "{d}");
    assert_eq!(
        explain(&org, &failure, Some(q), Some(&round), None),
        d.to_string()
    );
}
