//! What a given user can see of the org, as Salesforce objects: the business
//! objects it may read, and the setup objects used for diagnosis (User,
//! Profile, PermissionSet incl. each profile's own `IsOwnedByProfile` set,
//! PermissionSetAssignment, PermissionSetGroup, PermissionSetGroupComponent,
//! UserLicense, Organization, ConnectedApplication, ExternalClientApplication,
//! SetupEntityAccess, ObjectPermissions, FieldPermissions, EntityDefinition,
//! FieldDefinition), all derived from [`Org`]. A field under field-level
//! security that the user cannot read is absent from its object (describe,
//! query, records).
//!
//! `ExternalClientApplication` supports describe and retrieve but not query
//! (object reference: "describeSObjects(), retrieve(), search()"): see
//! [`queryable`]. `SetupEntityAccess` rows for External Client Apps
//! (`SetupEntityType = 'ExternalClientApplication'`) exist from API 60.0;
//! a catalog at an older version ([`Catalog::at_version`]) leaves them out.
//!
//! Setup objects other than User and Organization need "View Setup and
//! Configuration"; without it they are refused as if they did not exist
//! (`INVALID_TYPE`), as Salesforce does. A business object the user cannot
//! read is refused the same way.
//!
//! Field names follow Salesforce's object reference (DOMAIN.md "Setup
//! objects for diagnosis").

use crate::sim::model::*;
use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// One record: field name -> value (references as ids).
pub type Row = IndexMap<String, Value>;

/// A field as describe shows it.
#[derive(Clone, Debug)]
pub struct FieldInfo {
    pub name: String,
    /// Describe type: id, string, boolean, reference, datetime, date,
    /// currency, double, int, picklist, email.
    pub kind: String,
    pub label: String,
    pub reference_to: Option<String>,
    pub relationship_name: Option<String>,
}

/// An object as describe shows it.
#[derive(Clone, Debug)]
pub struct ObjectInfo {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    pub key_prefix: String,
    pub custom: bool,
    pub fields: Vec<FieldInfo>,
}

impl ObjectInfo {
    pub fn field(&self, name: &str) -> Option<&FieldInfo> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The reference field behind a relationship name (`Profile` ->
    /// `ProfileId`).
    pub fn relationship(&self, rel: &str) -> Option<&FieldInfo> {
        self.fields.iter().find(|f| {
            f.relationship_name
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(rel))
        })
    }
}

/// Setup objects this sim serves.
pub const SETUP_OBJECTS: &[&str] = &[
    "User",
    "Organization",
    "Profile",
    "PermissionSet",
    "PermissionSetAssignment",
    "PermissionSetGroup",
    "PermissionSetGroupComponent",
    "UserLicense",
    "ConnectedApplication",
    "ExternalClientApplication",
    "SetupEntityAccess",
    "ObjectPermissions",
    "FieldPermissions",
    "SetupAuditTrail",
    "EntityDefinition",
    "FieldDefinition",
];

/// Setup objects any API user may query (the rest need View Setup).
const OPEN_SETUP_OBJECTS: &[&str] = &["User", "Organization"];

/// Objects served for describe and retrieve that SOQL refuses.
const NOT_QUERYABLE: &[&str] = &["ExternalClientApplication"];

/// Whether SOQL may select from the object (`queryable` in describe).
pub fn queryable(name: &str) -> bool {
    !NOT_QUERYABLE.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// The first API version with `SetupEntityAccess` rows of type
/// `ExternalClientApplication` (object reference).
pub const ECA_SETUP_ENTITY_ACCESS_SINCE: u16 = 60;

/// Rows shared between the engine's lookups within one request.
type SharedRows = Rc<Vec<Map<String, Value>>>;

/// The org as one user sees it at one moment.
pub struct Catalog<'a> {
    pub org: &'a Org,
    pub user: &'a User,
    pub now: DateTime<Utc>,
    /// Rows built once per object per request (relationship paths look
    /// parents up row by row).
    cache: RefCell<HashMap<String, SharedRows>>,
    effective: Effective,
    /// The API version of the request (major); rows that appeared later
    /// are left out.
    version: u16,
}

fn f(name: &str, kind: &str) -> FieldInfo {
    FieldInfo {
        name: name.into(),
        kind: kind.into(),
        label: label_of(name),
        reference_to: None,
        relationship_name: None,
    }
}

fn r(name: &str, to: &str, rel: &str) -> FieldInfo {
    FieldInfo {
        name: name.into(),
        kind: "reference".into(),
        label: label_of(name),
        reference_to: Some(to.into()),
        relationship_name: Some(rel.into()),
    }
}

fn label_of(name: &str) -> String {
    let base = name.trim_end_matches("__c").replace('_', " ");
    let mut out = String::new();
    for (i, c) in base.chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() && !out.ends_with(' ') {
            let prev = base.chars().nth(i - 1).unwrap_or(' ');
            if prev.is_ascii_lowercase() {
                out.push(' ');
            }
        }
        out.push(c);
    }
    out
}

fn sysperm_fields(v: &mut Vec<FieldInfo>) {
    for n in [
        "PermissionsApiEnabled",
        "PermissionsViewSetup",
        "PermissionsViewAllData",
        "PermissionsModifyAllData",
        "PermissionsManageUsers",
        "PermissionsModifyMetadata",
    ] {
        v.push(f(n, "boolean"));
    }
}

fn sysperm_values(row: &mut Row, p: &SystemPermissions) {
    row.insert("PermissionsApiEnabled".into(), json!(p.api_enabled));
    row.insert("PermissionsViewSetup".into(), json!(p.view_setup));
    row.insert("PermissionsViewAllData".into(), json!(p.view_all_data));
    row.insert("PermissionsModifyAllData".into(), json!(p.modify_all_data));
    row.insert("PermissionsManageUsers".into(), json!(p.manage_users));
    row.insert("PermissionsModifyMetadata".into(), json!(p.modify_metadata));
}

/// Salesforce's datetime format in JSON.
pub fn sf_datetime(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

fn setup_info(name: &str) -> Option<ObjectInfo> {
    let (label, plural, prefix, mut fields): (&str, &str, &str, Vec<FieldInfo>) = match name {
        "User" => (
            "User",
            "Users",
            "005",
            vec![
                f("Id", "id"),
                f("Username", "string"),
                f("Name", "string"),
                f("FirstName", "string"),
                f("LastName", "string"),
                f("Email", "email"),
                f("IsActive", "boolean"),
                f("UserType", "picklist"),
                r("ProfileId", "Profile", "Profile"),
            ],
        ),
        "Organization" => (
            "Organization",
            "Organizations",
            "00D",
            vec![
                f("Id", "id"),
                f("Name", "string"),
                f("OrganizationType", "picklist"),
                f("IsSandbox", "boolean"),
                f("TrialExpirationDate", "datetime"),
                f("InstanceName", "string"),
            ],
        ),
        "Profile" => {
            let mut v = vec![
                f("Id", "id"),
                f("Name", "string"),
                f("UserType", "picklist"),
                r("UserLicenseId", "UserLicense", "UserLicense"),
            ];
            sysperm_fields(&mut v);
            ("Profile", "Profiles", "00e", v)
        }
        "PermissionSet" => {
            let mut v = vec![
                f("Id", "id"),
                f("Name", "string"),
                f("Label", "string"),
                f("Type", "picklist"),
                f("IsOwnedByProfile", "boolean"),
                f("IsCustom", "boolean"),
                r("ProfileId", "Profile", "Profile"),
                r(
                    "PermissionSetGroupId",
                    "PermissionSetGroup",
                    "PermissionSetGroup",
                ),
                r("LicenseId", "UserLicense", "License"),
            ];
            sysperm_fields(&mut v);
            ("Permission Set", "Permission Sets", "0PS", v)
        }
        "PermissionSetAssignment" => (
            "Permission Set Assignment",
            "Permission Set Assignments",
            "0Pa",
            vec![
                f("Id", "id"),
                r("AssigneeId", "User", "Assignee"),
                r("PermissionSetId", "PermissionSet", "PermissionSet"),
                r(
                    "PermissionSetGroupId",
                    "PermissionSetGroup",
                    "PermissionSetGroup",
                ),
                f("IsActive", "boolean"),
                f("ExpirationDate", "datetime"),
            ],
        ),
        "PermissionSetGroup" => (
            "Permission Set Group",
            "Permission Set Groups",
            "0PG",
            vec![
                f("Id", "id"),
                f("DeveloperName", "string"),
                f("MasterLabel", "string"),
                f("Status", "picklist"),
            ],
        ),
        "PermissionSetGroupComponent" => (
            "Permission Set Group Component",
            "Permission Set Group Components",
            "0PH",
            vec![
                f("Id", "id"),
                r(
                    "PermissionSetGroupId",
                    "PermissionSetGroup",
                    "PermissionSetGroup",
                ),
                r("PermissionSetId", "PermissionSet", "PermissionSet"),
            ],
        ),
        "UserLicense" => (
            "User License",
            "User Licenses",
            "100",
            vec![
                f("Id", "id"),
                f("Name", "string"),
                f("MasterLabel", "string"),
                f("LicenseDefinitionKey", "string"),
                f("Status", "picklist"),
                f("TotalLicenses", "int"),
                f("UsedLicenses", "int"),
            ],
        ),
        "ConnectedApplication" => (
            "Connected App",
            "Connected Apps",
            "0H4",
            vec![
                f("Id", "id"),
                f("Name", "string"),
                f("OptionsAllowAdminApprovedUsersOnly", "boolean"),
            ],
        ),
        "ExternalClientApplication" => (
            "External Client App",
            "External Client Apps",
            ECA_KEY_PREFIX,
            vec![
                f("Id", "id"),
                f("DeveloperName", "string"),
                f("MasterLabel", "string"),
                f("NamespacePrefix", "string"),
                f("Language", "picklist"),
                f("DistributionState", "picklist"),
                f("ContactEmail", "email"),
                f("Description", "string"),
                f("IsDeleted", "boolean"),
            ],
        ),
        "SetupEntityAccess" => (
            "Setup Entity Access",
            "Setup Entity Access",
            "0J0",
            vec![
                f("Id", "id"),
                r("ParentId", "PermissionSet", "Parent"),
                f("SetupEntityId", "reference"),
                f("SetupEntityType", "string"),
            ],
        ),
        "ObjectPermissions" => (
            "Object Permissions",
            "Object Permissions",
            "110",
            vec![
                f("Id", "id"),
                r("ParentId", "PermissionSet", "Parent"),
                f("SobjectType", "picklist"),
                f("PermissionsRead", "boolean"),
                f("PermissionsCreate", "boolean"),
                f("PermissionsEdit", "boolean"),
                f("PermissionsDelete", "boolean"),
                f("PermissionsViewAllRecords", "boolean"),
                f("PermissionsModifyAllRecords", "boolean"),
            ],
        ),
        "FieldPermissions" => (
            "Field Permissions",
            "Field Permissions",
            "01k",
            vec![
                f("Id", "id"),
                r("ParentId", "PermissionSet", "Parent"),
                f("SobjectType", "picklist"),
                f("Field", "picklist"),
                f("PermissionsRead", "boolean"),
                f("PermissionsEdit", "boolean"),
            ],
        ),
        "FieldDefinition" => (
            "Field Definition",
            "Field Definitions",
            "4ld",
            vec![
                f("Id", "id"),
                f("DurableId", "string"),
                f("QualifiedApiName", "string"),
                f("Label", "string"),
                f("DataType", "string"),
                r("EntityDefinitionId", "EntityDefinition", "EntityDefinition"),
            ],
        ),
        "EntityDefinition" => (
            "Entity Definition",
            "Entity Definitions",
            "4ie",
            vec![
                f("Id", "id"),
                f("DurableId", "string"),
                f("QualifiedApiName", "string"),
                f("Label", "string"),
                f("KeyPrefix", "string"),
                f("InternalSharingModel", "picklist"),
                f("ExternalSharingModel", "picklist"),
            ],
        ),
        "SetupAuditTrail" => (
            "Setup Audit Trail",
            "Setup Audit Trail",
            "0Ym",
            vec![
                f("Id", "id"),
                f("Action", "string"),
                f("Section", "string"),
                f("Display", "string"),
                f("DelegateUser", "string"),
                f("CreatedByContext", "string"),
                r("CreatedById", "User", "CreatedBy"),
            ],
        ),
        _ => return None,
    };
    for n in ["CreatedDate", "LastModifiedDate", "SystemModstamp"] {
        if name != "Organization" || n != "CreatedDate" {
            fields.push(f(n, "datetime"));
        }
    }
    Some(ObjectInfo {
        name: name.into(),
        label: label.into(),
        label_plural: plural.into(),
        key_prefix: prefix.into(),
        custom: false,
        fields,
    })
}

/// The object as `eff` sees it: a field under field-level security the
/// user cannot read is absent, as from Salesforce's describe (and a query
/// naming it fails with INVALID_FIELD "No such column").
fn business_info(o: &SObjectDef, eff: &Effective) -> ObjectInfo {
    let mut fields: Vec<FieldInfo> = o
        .fields
        .iter()
        .filter(|fd| eff.can_read_field(&o.name, fd))
        .map(|fd| FieldInfo {
            name: fd.name.clone(),
            kind: fd.kind.clone(),
            label: fd.label.clone().unwrap_or_else(|| label_of(&fd.name)),
            reference_to: fd.reference_to.clone(),
            relationship_name: fd.relationship_name.clone(),
        })
        .collect();
    if !fields.iter().any(|f| f.name == "Id") {
        fields.insert(0, f("Id", "id"));
    }
    ObjectInfo {
        name: o.name.clone(),
        label: o.label.clone(),
        label_plural: o.label_plural.clone().unwrap_or_else(|| o.label.clone()),
        key_prefix: o.key_prefix.clone(),
        custom: o.custom(),
        fields,
    }
}

impl<'a> Catalog<'a> {
    pub fn new(org: &'a Org, user: &'a User, now: DateTime<Utc>) -> Self {
        Catalog {
            org,
            user,
            now,
            cache: RefCell::new(HashMap::new()),
            effective: org.effective(user, now),
            version: u16::MAX,
        }
    }

    /// The catalog as a request at API version `major` sees it (default:
    /// the newest).
    pub fn at_version(mut self, major: u16) -> Self {
        self.version = major;
        self
    }

    fn view_setup(&self) -> bool {
        self.effective.permissions.view_setup
    }

    /// [`Catalog::rows`], computed once per object for this catalog.
    pub fn cached_rows(&self, name: &str) -> Rc<Vec<Map<String, Value>>> {
        if let Some(r) = self.cache.borrow().get(name) {
            return r.clone();
        }
        let rows: SharedRows = Rc::new(
            self.rows(name)
                .into_iter()
                .map(|r| r.into_iter().collect())
                .collect(),
        );
        self.cache
            .borrow_mut()
            .insert(name.to_string(), rows.clone());
        rows
    }

    /// The object, if it exists and this user may see it. `None` means
    /// Salesforce's INVALID_TYPE.
    pub fn describe(&self, name: &str) -> Option<ObjectInfo> {
        if let Some(o) = self.org.object(name) {
            return self
                .effective
                .can_read(&o.name)
                .then(|| business_info(o, &self.effective));
        }
        let canonical = SETUP_OBJECTS
            .iter()
            .find(|s| s.eq_ignore_ascii_case(name))?;
        if !OPEN_SETUP_OBJECTS.contains(canonical) && !self.view_setup() {
            return None;
        }
        setup_info(canonical)
    }

    /// Every object this user may see (for `/sobjects/`).
    pub fn visible_objects(&self) -> Vec<ObjectInfo> {
        let mut out: Vec<ObjectInfo> = self
            .org
            .objects
            .iter()
            .filter_map(|o| self.describe(&o.name))
            .collect();
        out.extend(SETUP_OBJECTS.iter().filter_map(|s| self.describe(s)));
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// All rows of a visible object (call [`Catalog::describe`] first).
    pub fn rows(&self, name: &str) -> Vec<Row> {
        if let Some(o) = self.org.object(name) {
            let hidden: Vec<&str> = o
                .fields
                .iter()
                .filter(|f| !self.effective.can_read_field(&o.name, f))
                .map(|f| f.name.as_str())
                .collect();
            return o
                .records
                .iter()
                .enumerate()
                .filter(|(_, r)| self.org.can_see(self.user, &self.effective, o, r))
                .map(|(i, r)| {
                    let mut row = r.clone();
                    row.retain(|k, _| !hidden.contains(&k.as_str()));
                    if !row.contains_key("Id") {
                        row.insert(
                            "Id".into(),
                            json!(sf_id(&o.key_prefix, &format!("{}:{i}", o.name))),
                        );
                    }
                    row.move_index(row.get_index_of("Id").unwrap_or(0), 0);
                    row
                })
                .collect();
        }
        let org = self.org;
        let stamp = json!(sf_datetime(self.now - chrono::Duration::days(30)));
        let mut rows: Vec<Row> = match name {
            "User" => org
                .users
                .iter()
                .map(|u| {
                    let lic = org.user_license(u).map(|l| l.key.as_str());
                    row([
                        ("Id", json!(user_id(&u.username))),
                        ("Username", json!(u.username)),
                        ("Name", json!(u.full_name())),
                        ("FirstName", json!(u.first_name)),
                        ("LastName", json!(u.last_name)),
                        ("Email", json!(u.email)),
                        ("IsActive", json!(u.active)),
                        ("UserType", json!(user_type(lic))),
                        ("ProfileId", json!(profile_id(&u.profile))),
                    ])
                })
                .collect(),
            "Organization" => vec![row([
                ("Id", json!(org.id)),
                ("Name", json!(org.name)),
                ("OrganizationType", json!(org.edition.organization_type())),
                ("IsSandbox", json!(org.sandbox)),
                (
                    "TrialExpirationDate",
                    org.trial_expiration
                        .map(|t| json!(sf_datetime(t)))
                        .unwrap_or(Value::Null),
                ),
                ("InstanceName", json!("SIM1")),
            ])],
            "Profile" => org
                .profiles
                .iter()
                .map(|p| {
                    let lic = org.license(&p.license).map(|l| l.key.as_str());
                    let mut row = row([
                        ("Id", json!(profile_id(&p.name))),
                        ("Name", json!(p.name)),
                        ("UserType", json!(user_type(lic))),
                        ("UserLicenseId", json!(license_id(&p.license))),
                    ]);
                    sysperm_values(&mut row, &p.permissions);
                    row
                })
                .collect(),
            "PermissionSet" => {
                let mut v: Vec<Row> = org
                    .profiles
                    .iter()
                    .map(|p| {
                        let pid = profile_id(&p.name);
                        let mut row = row([
                            ("Id", json!(profile_permset_id(&p.name))),
                            ("Name", json!(format!("X{}", &pid[..15]))),
                            ("Label", json!(&pid[..15])),
                            ("Type", json!("Profile")),
                            ("IsOwnedByProfile", json!(true)),
                            ("IsCustom", json!(false)),
                            ("ProfileId", json!(pid)),
                            ("PermissionSetGroupId", Value::Null),
                            ("LicenseId", json!(license_id(&p.license))),
                        ]);
                        sysperm_values(&mut row, &p.permissions);
                        row
                    })
                    .collect();
                v.extend(org.permission_sets.iter().map(|ps| {
                    let mut row = row([
                        ("Id", json!(permset_id(&ps.name))),
                        ("Name", json!(ps.name)),
                        ("Label", json!(ps.label)),
                        ("Type", json!("Regular")),
                        ("IsOwnedByProfile", json!(false)),
                        ("IsCustom", json!(true)),
                        ("ProfileId", Value::Null),
                        ("PermissionSetGroupId", Value::Null),
                        (
                            "LicenseId",
                            ps.license
                                .as_deref()
                                .map(|l| json!(license_id(l)))
                                .unwrap_or(Value::Null),
                        ),
                    ]);
                    sysperm_values(&mut row, &ps.permissions);
                    row
                }));
                v.extend(org.permission_set_groups.iter().map(|g| {
                    // The group's aggregate permission set.
                    let mut perms = SystemPermissions::default();
                    for ps in g
                        .permission_sets
                        .iter()
                        .filter_map(|n| org.permission_set(n))
                    {
                        perms.merge(&ps.permissions);
                    }
                    let mut row = row([
                        ("Id", json!(group_permset_id(&g.name))),
                        ("Name", json!(g.name)),
                        ("Label", json!(g.label)),
                        ("Type", json!("Group")),
                        ("IsOwnedByProfile", json!(false)),
                        ("IsCustom", json!(false)),
                        ("ProfileId", Value::Null),
                        ("PermissionSetGroupId", json!(group_id(&g.name))),
                        ("LicenseId", Value::Null),
                    ]);
                    sysperm_values(&mut row, &perms);
                    row
                }));
                v
            }
            "PermissionSetAssignment" => {
                let mut v = Vec::new();
                for u in &org.users {
                    // Every user is "assigned" its profile's own set.
                    v.push(row([
                        (
                            "Id",
                            json!(assignment_id(
                                &u.username,
                                &format!("profile:{}", u.profile)
                            )),
                        ),
                        ("AssigneeId", json!(user_id(&u.username))),
                        ("PermissionSetId", json!(profile_permset_id(&u.profile))),
                        ("PermissionSetGroupId", Value::Null),
                        ("IsActive", json!(u.active)),
                        ("ExpirationDate", Value::Null),
                    ]));
                    for a in &u.assignments {
                        let (ps, grp, key) = match (&a.permission_set, &a.group) {
                            (Some(ps), _) => (permset_id(ps), Value::Null, ps.clone()),
                            (None, Some(g)) => (
                                group_permset_id(g),
                                json!(group_id(g)),
                                format!("group:{g}"),
                            ),
                            (None, None) => continue,
                        };
                        v.push(row([
                            ("Id", json!(assignment_id(&u.username, &key))),
                            ("AssigneeId", json!(user_id(&u.username))),
                            ("PermissionSetId", json!(ps)),
                            ("PermissionSetGroupId", grp),
                            ("IsActive", json!(a.active && u.active)),
                            (
                                "ExpirationDate",
                                a.expires
                                    .map(|t| json!(sf_datetime(t)))
                                    .unwrap_or(Value::Null),
                            ),
                        ]));
                    }
                }
                v
            }
            "PermissionSetGroup" => org
                .permission_set_groups
                .iter()
                .map(|g| {
                    row([
                        ("Id", json!(group_id(&g.name))),
                        ("DeveloperName", json!(g.name)),
                        ("MasterLabel", json!(g.label)),
                        ("Status", json!("Updated")),
                    ])
                })
                .collect(),
            "PermissionSetGroupComponent" => org
                .permission_set_groups
                .iter()
                .flat_map(|g| {
                    g.permission_sets.iter().map(move |ps| {
                        row([
                            ("Id", json!(sf_id("0PH", &format!("{}:{ps}", g.name)))),
                            ("PermissionSetGroupId", json!(group_id(&g.name))),
                            ("PermissionSetId", json!(permset_id(ps))),
                        ])
                    })
                })
                .collect(),
            "UserLicense" => org
                .licenses
                .iter()
                .map(|l| {
                    let used = org
                        .users
                        .iter()
                        .filter(|u| {
                            u.active && org.user_license(u).is_some_and(|x| x.name == l.name)
                        })
                        .count();
                    row([
                        ("Id", json!(license_id(&l.name))),
                        ("Name", json!(l.name)),
                        ("MasterLabel", json!(l.name)),
                        ("LicenseDefinitionKey", json!(l.key)),
                        ("Status", json!("Active")),
                        ("TotalLicenses", json!(l.total)),
                        ("UsedLicenses", json!(used)),
                    ])
                })
                .collect(),
            "ConnectedApplication" => org
                .connected_apps
                .iter()
                .map(|a| {
                    row([
                        ("Id", json!(app_id(&a.name))),
                        ("Name", json!(a.name)),
                        (
                            "OptionsAllowAdminApprovedUsersOnly",
                            json!(a.permitted_users == PermittedUsers::AdminApproved),
                        ),
                    ])
                })
                .collect(),
            "ExternalClientApplication" => org
                .external_client_apps
                .iter()
                .map(|a| {
                    row([
                        ("Id", json!(a.id)),
                        ("DeveloperName", json!(a.name)),
                        ("MasterLabel", json!(a.label)),
                        ("NamespacePrefix", Value::Null),
                        ("Language", json!("en_US")),
                        ("DistributionState", json!("Local")),
                        ("ContactEmail", json!(crate::sim::audit_trail::ADMIN)),
                        ("Description", Value::Null),
                        ("IsDeleted", json!(false)),
                    ])
                })
                .collect(),
            "SetupEntityAccess" => {
                let mut v = Vec::new();
                let mut push = |seed: &str, entity: String, kind: &str, parent: String| {
                    v.push(row([
                        ("Id", json!(setup_access_id(seed, &parent))),
                        ("ParentId", json!(parent)),
                        ("SetupEntityId", json!(entity)),
                        ("SetupEntityType", json!(kind)),
                    ]));
                };
                for a in &org.connected_apps {
                    let parents = a
                        .profiles
                        .iter()
                        .map(|p| profile_permset_id(p))
                        .chain(a.permission_sets.iter().map(|p| permset_id(p)));
                    for parent in parents {
                        push(&a.name, app_id(&a.name), "ConnectedApplication", parent);
                    }
                }
                if self.version >= ECA_SETUP_ENTITY_ACCESS_SINCE {
                    for a in &org.external_client_apps {
                        for ps in &a.permission_sets {
                            let seed = format!("eca:{}", a.name);
                            push(
                                &seed,
                                a.id.clone(),
                                "ExternalClientApplication",
                                permset_id(ps),
                            );
                        }
                    }
                }
                v
            }
            "ObjectPermissions" => {
                holders(org, |p| &p.objects, |p| &p.objects, ObjectAccess::merge)
                    .into_iter()
                    .flat_map(|(parent, objects)| {
                        objects.into_iter().map(move |(o, a)| {
                            row([
                                ("Id", json!(sf_id("110", &format!("{parent}:{o}")))),
                                ("ParentId", json!(parent)),
                                ("SobjectType", json!(o)),
                                ("PermissionsRead", json!(a.read)),
                                ("PermissionsCreate", json!(a.create)),
                                ("PermissionsEdit", json!(a.edit)),
                                ("PermissionsDelete", json!(a.delete)),
                                ("PermissionsViewAllRecords", json!(a.view_all)),
                                ("PermissionsModifyAllRecords", json!(a.modify_all)),
                            ])
                        })
                    })
                    .collect()
            }
            "FieldPermissions" => holders(org, |p| &p.fields, |p| &p.fields, FieldAccess::merge)
                .into_iter()
                .flat_map(|(parent, fields)| {
                    fields.into_iter().map(move |(key, a)| {
                        let object = key.split('.').next().unwrap_or_default().to_string();
                        row([
                            ("Id", json!(sf_id("01k", &format!("{parent}:{key}")))),
                            ("ParentId", json!(parent)),
                            ("SobjectType", json!(object)),
                            ("Field", json!(key)),
                            ("PermissionsRead", json!(a.read)),
                            ("PermissionsEdit", json!(a.edit)),
                        ])
                    })
                })
                .collect(),
            // Every field of the business objects, whoever may read it
            // (field-level security does not hide a field's definition).
            "FieldDefinition" => org
                .objects
                .iter()
                .flat_map(|o| {
                    o.fields.iter().map(move |fd| {
                        let durable = format!("{}.{}", o.name, fd.name);
                        row([
                            ("Id", json!(sf_id("4ld", &durable))),
                            ("DurableId", json!(durable)),
                            ("QualifiedApiName", json!(fd.name)),
                            (
                                "Label",
                                json!(fd.label.clone().unwrap_or_else(|| label_of(&fd.name))),
                            ),
                            ("DataType", json!(fd.kind)),
                            ("EntityDefinitionId", json!(sf_id("4ie", &o.name))),
                        ])
                    })
                })
                .collect(),
            "EntityDefinition" => org
                .objects
                .iter()
                .map(|o| {
                    let sharing = o.sharing_model.wire();
                    (
                        o.name.clone(),
                        o.label.clone(),
                        o.key_prefix.clone(),
                        sharing,
                    )
                })
                .chain(SETUP_OBJECTS.iter().filter_map(|n| {
                    let i = setup_info(n)?;
                    Some((i.name, i.label, i.key_prefix, "Read"))
                }))
                .map(|(name, label, prefix, sharing)| {
                    row([
                        ("Id", json!(sf_id("4ie", &name))),
                        ("DurableId", json!(name)),
                        ("QualifiedApiName", json!(name)),
                        ("Label", json!(label)),
                        ("KeyPrefix", json!(prefix)),
                        ("InternalSharingModel", json!(sharing)),
                        ("ExternalSharingModel", json!(sharing)),
                    ])
                })
                .collect(),
            "SetupAuditTrail" => org
                .audit_trail
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    row([
                        ("Id", json!(sf_id("0Ym", &format!("trail:{i}")))),
                        ("Action", json!(e.action)),
                        ("Section", json!(e.section)),
                        ("Display", json!(e.display)),
                        (
                            "DelegateUser",
                            e.delegate_user
                                .as_ref()
                                .map(|d| json!(d))
                                .unwrap_or(Value::Null),
                        ),
                        ("CreatedByContext", Value::Null),
                        ("CreatedById", json!(user_id(&e.created_by))),
                        ("CreatedDate", json!(sf_datetime(e.created_date))),
                    ])
                })
                .collect(),
            _ => Vec::new(),
        };
        for row in &mut rows {
            for n in ["CreatedDate", "LastModifiedDate", "SystemModstamp"] {
                if name != "Organization" || n != "CreatedDate" {
                    row.entry(n.to_string()).or_insert_with(|| stamp.clone());
                }
            }
        }
        rows
    }

    /// One row by id (for relationship paths like `Profile.Name`).
    pub fn row_by_id(&self, object: &str, id: &str) -> Option<Map<String, Value>> {
        // A 15-character id is the case-sensitive prefix of the 18-character
        // one.
        let matches =
            |stored: &str| stored == id || (id.len() == 15 && stored.get(..15) == Some(id));
        self.cached_rows(object)
            .iter()
            .find(|r| r.get("Id").and_then(Value::as_str).is_some_and(matches))
            .cloned()
    }
}

/// Every holder of permissions as a `PermissionSet` id with its grants
/// (object or field permissions): each profile's own set, each permission
/// set, and each group's aggregate set, which carries the union of its sets.
fn holders<T: Clone + Default>(
    org: &Org,
    of_profile: fn(&Profile) -> &IndexMap<String, T>,
    of_set: fn(&PermissionSet) -> &IndexMap<String, T>,
    merge: fn(&mut T, &T),
) -> Vec<(String, IndexMap<String, T>)> {
    let mut out: Vec<(String, IndexMap<String, T>)> = Vec::new();
    for p in &org.profiles {
        out.push((profile_permset_id(&p.name), of_profile(p).clone()));
    }
    for ps in &org.permission_sets {
        out.push((permset_id(&ps.name), of_set(ps).clone()));
    }
    for g in &org.permission_set_groups {
        let mut union: IndexMap<String, T> = IndexMap::new();
        for ps in g
            .permission_sets
            .iter()
            .filter_map(|n| org.permission_set(n))
        {
            for (k, a) in of_set(ps) {
                merge(union.entry(k.clone()).or_default(), a);
            }
        }
        out.push((group_permset_id(&g.name), union));
    }
    out
}

fn row<const N: usize>(pairs: [(&str, Value); N]) -> Row {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// `User.UserType` / `Profile.UserType` from the license key.
fn user_type(license_key: Option<&str>) -> &'static str {
    match license_key {
        Some("PID_Chatter") => "CsnOnly",
        Some("PID_Identity") => "Standard",
        _ => "Standard",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{demo, scenarios};

    #[test]
    fn setup_objects_need_view_setup() {
        let org = scenarios::healthy();
        let now = Utc::now();
        let integ = org.user(demo::USERNAME).unwrap();
        let aud = org.user(demo::AUDITOR_USERNAME).unwrap();
        let c = Catalog::new(&org, integ, now);
        assert!(c.describe("PermissionSetAssignment").is_none());
        assert!(c.describe("User").is_some());
        assert!(c.describe("Account").is_some());
        let a = Catalog::new(&org, aud, now);
        assert!(a.describe("permissionsetassignment").is_some());
        // The auditor has no object access to business data.
        assert!(a.describe("Opportunity").is_none());
    }

    #[test]
    fn assignments_include_profile_sets_and_groups() {
        let org = scenarios::healthy();
        let aud = org.user(demo::AUDITOR_USERNAME).unwrap();
        let c = Catalog::new(&org, aud, Utc::now());
        let uid = user_id(demo::USERNAME);
        let rows: Vec<Row> = c
            .rows("PermissionSetAssignment")
            .into_iter()
            .filter(|r| r["AssigneeId"] == json!(uid))
            .collect();
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert!(rows
            .iter()
            .any(|r| r["PermissionSetGroupId"] == json!(group_id(scenarios::WAREHOUSE_GROUP))));
        let ps = c.rows("PermissionSet");
        let own = ps
            .iter()
            .find(|r| r["ProfileId"] == json!(profile_id(scenarios::INTEGRATION_PROFILE)))
            .unwrap();
        assert_eq!(own["IsOwnedByProfile"], json!(true));
        assert_eq!(own["PermissionsApiEnabled"], json!(true));
    }
}
