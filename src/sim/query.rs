//! The bridge between `/query` and the SOQL engine ([`crate::sim::soql`]):
//! the engine evaluates, [`Catalog`] decides what the user may see.
//!
//! An object the user can see but that does not support query
//! (`ExternalClientApplication`) is refused with 400
//! `INVALID_TYPE_FOR_OPERATION` "entity type X does not support query",
//! the code and text Salesforce answers such a query with (observed; not in
//! an official table). One the user cannot see stays `INVALID_TYPE`.
//!
//! `FieldDefinition` without an equality filter on its entity (a top-level
//! `EntityDefinition.QualifiedApiName = ..`, `EntityDefinitionId = ..` or
//! `IN (..)`) is refused as a real org refuses it:
//! `EXTERNAL_OBJECT_UNSUPPORTED_EXCEPTION` "FieldDefinition: a filter on a
//! reified column is required." (salesforce.stackexchange.com q. 73572).

use crate::sim::records::Catalog;
use crate::sim::soql::{
    self, CmpOp, Expr, ObjectInfo, QueryOutput, Relationship, SoqlError, Source,
};
use serde_json::{Map, Value};

/// Run `soql` as the catalog's user; `version` (e.g. "62.0") builds the
/// records' `attributes.url`.
pub fn run(catalog: &Catalog, soql: &str, version: &str) -> Result<QueryOutput, SoqlError> {
    let q = soql::parse(soql)?;
    if !crate::sim::records::queryable(q.object()) {
        if let Some(o) = catalog.describe(q.object()) {
            return Err(SoqlError {
                code: "INVALID_TYPE_FOR_OPERATION",
                message: format!("entity type {} does not support query", o.name),
            });
        }
    }
    if q.object().eq_ignore_ascii_case("FieldDefinition") && !filters_entity(q.filter.as_ref()) {
        return Err(SoqlError {
            code: "EXTERNAL_OBJECT_UNSUPPORTED_EXCEPTION",
            message: "FieldDefinition: a filter on a reified column is required.".into(),
        });
    }
    soql::execute(&q, catalog, version, catalog.now.date_naive())
}

/// The filter (or one of its top-level `AND` terms) pins the entity: `=`
/// or `IN` on `EntityDefinitionId` or an `EntityDefinition.` field.
fn filters_entity(filter: Option<&Expr>) -> bool {
    let entity = |parts: &[String]| {
        parts
            .first()
            .is_some_and(|p| p.eq_ignore_ascii_case("EntityDefinition") && parts.len() == 2)
            || (parts.len() == 1 && parts[0].eq_ignore_ascii_case("EntityDefinitionId"))
    };
    match filter {
        Some(Expr::And(terms)) => terms.iter().any(|t| filters_entity(Some(t))),
        Some(Expr::Cmp {
            path,
            op: CmpOp::Eq,
            ..
        }) => entity(&path.parts),
        Some(Expr::In {
            path,
            negated: false,
            ..
        }) => entity(&path.parts),
        _ => false,
    }
}

impl Source for Catalog<'_> {
    fn object(&self, name: &str) -> Option<ObjectInfo> {
        let info = self.describe(name)?;
        Some(ObjectInfo {
            name: info.name.clone(),
            fields: info.fields.iter().map(|f| f.name.clone()).collect(),
            relationships: info
                .fields
                .iter()
                .filter_map(|f| {
                    Some(Relationship {
                        name: f.relationship_name.clone()?,
                        id_field: f.name.clone(),
                        target: f.reference_to.clone()?,
                    })
                })
                .collect(),
        })
    }

    fn rows(&self, object: &str) -> Vec<Map<String, Value>> {
        self.cached_rows(object).as_ref().clone()
    }

    fn scan(&self, object: &str, visit: &mut dyn FnMut(&Map<String, Value>) -> bool) {
        for row in self.cached_rows(object).iter() {
            if !visit(row) {
                return;
            }
        }
    }

    fn by_id(&self, object: &str, id: &str) -> Option<Map<String, Value>> {
        // A parent the user cannot see reads as null, as on the platform.
        self.describe(object)?;
        self.row_by_id(object, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{demo, scenarios};
    use chrono::Utc;

    /// Sharing reaches the query answer: `COUNT()` and `totalSize` count
    /// only what the user sees, and EntityDefinition says the default.
    #[test]
    fn a_query_counts_only_the_records_sharing_shows() {
        let now = Utc::now();
        let total = |org: &crate::sim::model::Org, user: &str, soql: &str| {
            let c = Catalog::new(org, org.user(user).unwrap(), now);
            run(&c, soql, "62.0").unwrap().total_size
        };
        let count = "SELECT COUNT() FROM Opportunity";
        let healthy = scenarios::healthy();
        assert_eq!(total(&healthy, demo::USERNAME, count), 3);
        let broken = scenarios::build("sharing-rule-removed").unwrap();
        assert_eq!(total(&broken, demo::USERNAME, count), 0);
        assert_eq!(
            total(&broken, demo::USERNAME, "SELECT Id FROM Opportunity"),
            0
        );
        assert_eq!(total(&broken, demo::USERNAME, "SELECT Id FROM Account"), 3);
        let c = Catalog::new(&broken, broken.user(demo::AUDITOR_USERNAME).unwrap(), now);
        let defaults = run(
            &c,
            "SELECT QualifiedApiName, InternalSharingModel, ExternalSharingModel FROM \
             EntityDefinition WHERE QualifiedApiName IN ('Opportunity', 'Account')",
            "62.0",
        )
        .unwrap();
        let model = |name: &str| {
            let r = defaults
                .records
                .iter()
                .find(|r| r["QualifiedApiName"] == name)
                .unwrap();
            (
                r["InternalSharingModel"].clone(),
                r["ExternalSharingModel"].clone(),
            )
        };
        assert_eq!(model("Opportunity"), ("Private".into(), "Private".into()));
        assert_eq!(model("Account"), ("ReadWrite".into(), "ReadWrite".into()));
    }

    fn q(user: &str, soql: &str) -> Result<Vec<Value>, SoqlError> {
        let org = scenarios::healthy();
        let u = org.user(user).unwrap();
        let c = Catalog::new(&org, u, Utc::now());
        run(&c, soql, "62.0").map(|r| r.records)
    }

    #[test]
    fn simple_select_with_limit_and_attributes() {
        let r = q(demo::USERNAME, "SELECT Id, Name FROM Account LIMIT 1").unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["attributes"]["type"], "Account");
        assert!(r[0]["attributes"]["url"]
            .as_str()
            .unwrap()
            .starts_with("/services/data/v62.0/sobjects/Account/001"));
    }

    #[test]
    fn where_today_and_relationships() {
        let r = q(
            demo::USERNAME,
            "SELECT Id, Name, Account.Name FROM Opportunity WHERE LastModifiedDate = TODAY ORDER BY Name",
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0]["Name"], "Globex dome");
        assert_eq!(r[0]["Account"]["Name"], "Globex");
        let r = q(
            demo::AUDITOR_USERNAME,
            "SELECT PermissionSet.Name, PermissionSetGroup.DeveloperName, Assignee.Profile.Name FROM PermissionSetAssignment WHERE Assignee.Username = 'integration@acme.example' AND PermissionSet.IsOwnedByProfile = false",
        )
        .unwrap();
        assert_eq!(r.len(), 2, "{r:?}");
        assert_eq!(r[0]["Assignee"]["Profile"]["Name"], "Integration User");
    }

    #[test]
    fn errors_carry_salesforce_codes() {
        let e = q(demo::USERNAME, "SELECT Id FROM PermissionSet").unwrap_err();
        assert_eq!(e.code, "INVALID_TYPE");
        assert!(e
            .message
            .contains("sObject type 'PermissionSet' is not supported"));
        assert!(e.message.contains("ERROR at Row:1:Column:16"));
        let e = q(demo::USERNAME, "SELECT Nope FROM Account").unwrap_err();
        assert_eq!(e.code, "INVALID_FIELD");
        let e = q(demo::USERNAME, "SELECT FROM Account").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
        let e = q(demo::USERNAME, "SELECT Id FROM Account WHERE").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
    }

    /// The auditor's Setup Audit Trail query: a dateTime bound, newest
    /// first, the admin through `CreatedBy`; View Setup is required.
    #[test]
    fn setup_audit_trail_window_order_and_created_by() {
        let since = (Utc::now() - chrono::Duration::days(7)).format("%Y-%m-%dT%H:%M:%SZ");
        let r = q(
            demo::AUDITOR_USERNAME,
            &format!(
                "SELECT Id, Action, Section, Display, CreatedDate, CreatedBy.Name, \
                 CreatedBy.Username, DelegateUser FROM SetupAuditTrail \
                 WHERE CreatedDate >= {since} ORDER BY CreatedDate DESC LIMIT 200"
            ),
        )
        .unwrap();
        // The 30-day-old entry is outside the window.
        assert_eq!(r.len(), 3, "{r:?}");
        assert_eq!(
            r[0]["Display"],
            "Changed picklist values for Opportunity field Stage"
        );
        assert_eq!(r[0]["CreatedBy"]["Name"], "Ada Admin");
        assert_eq!(r[0]["CreatedBy"]["Username"], "admin@acme.example");
        assert!(r[0]["CreatedDate"].as_str() > r[1]["CreatedDate"].as_str());
        let e = q(demo::USERNAME, "SELECT Id FROM SetupAuditTrail").unwrap_err();
        assert_eq!(e.code, "INVALID_TYPE");
    }

    /// Field-level security: a field without a Read grant is absent, so a
    /// query naming it fails as Salesforce answers it (INVALID_FIELD "No
    /// such column"), in SELECT and in WHERE; the Id and fields outside
    /// field-level security still read; the auditor reads the grants and
    /// the field's definition.
    #[test]
    fn a_field_without_read_is_no_such_column() {
        let mut org = scenarios::healthy();
        scenarios::apply("field-not-readable", &mut org).unwrap();
        let now = Utc::now();
        let u = org.user(demo::USERNAME).unwrap();
        let c = Catalog::new(&org, u, now);
        let soql = "SELECT Id, Name, StageName, Amount FROM Opportunity";
        let e = run(&c, soql, "62.0").unwrap_err();
        assert_eq!(e.code, "INVALID_FIELD");
        assert!(
            e.message.ends_with(
                "No such column 'Amount' on entity 'Opportunity'. If you are attempting to use a \
                 custom field, be sure to append the '__c' after the custom field name. Please \
                 reference your WSDL or the describe call for the appropriate names."
            ),
            "{}",
            e.message
        );
        let e = run(&c, "SELECT Id FROM Opportunity WHERE Amount > 0", "62.0").unwrap_err();
        assert_eq!(e.code, "INVALID_FIELD");
        let ok = run(&c, "SELECT Id, Name, StageName FROM Opportunity", "62.0").unwrap();
        assert_eq!(ok.records.len(), 3);
        assert!(c.describe("Opportunity").unwrap().field("Amount").is_none());
        assert!(c
            .rows("Opportunity")
            .iter()
            .all(|r| !r.contains_key("Amount")));
        // Healthy: the same query reads Amount.
        let healthy = scenarios::healthy();
        let h = Catalog::new(&healthy, healthy.user(demo::USERNAME).unwrap(), now);
        assert_eq!(
            run(&h, soql, "62.0").unwrap().records[0]["Amount"],
            250000.0
        );
        // The auditor: the grants left, and the field's definition.
        let a = Catalog::new(&org, org.user(demo::AUDITOR_USERNAME).unwrap(), now);
        let grants = run(
            &a,
            "SELECT Parent.Label, PermissionsRead FROM FieldPermissions \
             WHERE Field = 'Opportunity.Amount' AND PermissionsRead = true",
            "62.0",
        )
        .unwrap();
        let labels: Vec<&Value> = grants
            .records
            .iter()
            .map(|r| &r["Parent"]["Label"])
            .collect();
        assert!(
            !labels.contains(&&Value::from("Stripe Integration Access")),
            "{labels:?}"
        );
        assert_eq!(labels.len(), 2, "two admin profiles' own sets: {labels:?}");
        let defs = run(
            &a,
            "SELECT QualifiedApiName FROM FieldDefinition WHERE \
             EntityDefinition.QualifiedApiName = 'Opportunity' AND QualifiedApiName IN ('Amount', 'Amuont')",
            "62.0",
        )
        .unwrap();
        assert_eq!(defs.records.len(), 1);
        assert_eq!(defs.records[0]["QualifiedApiName"], "Amount");
    }

    /// A real org answers a FieldDefinition query only for a named entity.
    #[test]
    fn field_definition_needs_its_entity_filtered_with_equals() {
        let ok = "SELECT QualifiedApiName FROM FieldDefinition WHERE \
                  EntityDefinition.QualifiedApiName = 'Opportunity' AND QualifiedApiName = 'Amount'";
        assert_eq!(q(demo::AUDITOR_USERNAME, ok).unwrap().len(), 1);
        for bad in [
            "SELECT QualifiedApiName FROM FieldDefinition",
            "SELECT QualifiedApiName FROM FieldDefinition WHERE QualifiedApiName = 'Amount'",
            "SELECT QualifiedApiName FROM FieldDefinition WHERE \
             EntityDefinition.QualifiedApiName = 'Opportunity' OR QualifiedApiName = 'Amount'",
        ] {
            let e = q(demo::AUDITOR_USERNAME, bad).unwrap_err();
            assert_eq!(e.code, "EXTERNAL_OBJECT_UNSUPPORTED_EXCEPTION", "{bad}");
            assert_eq!(
                e.message,
                "FieldDefinition: a filter on a reified column is required."
            );
        }
    }

    #[test]
    fn in_like_not() {
        let r = q(
            demo::USERNAME,
            "SELECT Id FROM Account WHERE Name IN ('Globex', 'Initech') AND NOT Name LIKE 'init%'",
        )
        .unwrap();
        assert_eq!(r.len(), 1);
    }

    /// Which permission sets pre-authorize an External Client App is
    /// readable with View Setup from API 60.0; the app itself cannot be
    /// queried.
    #[test]
    fn eca_setup_entity_access_rows_from_v60_and_no_query_on_the_app() {
        let org = scenarios::healthy();
        let aud = org.user(demo::AUDITOR_USERNAME).unwrap();
        let soql = "SELECT SetupEntityId, ParentId, Parent.Name FROM SetupEntityAccess \
                    WHERE SetupEntityType = 'ExternalClientApplication'";
        let at = |v: u16| {
            let c = Catalog::new(&org, aud, Utc::now()).at_version(v);
            run(&c, soql, &format!("{v}.0")).map(|r| r.records)
        };
        let rows = at(60).unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        let app = org.eca(demo::ECA_JWT_NAME).unwrap();
        assert_eq!(rows[0]["SetupEntityId"], app.id.as_str());
        assert_eq!(
            rows[0]["ParentId"],
            crate::sim::model::permset_id(scenarios::STRIPE_PERMSET).as_str()
        );
        assert_eq!(rows[0]["Parent"]["Name"], scenarios::STRIPE_PERMSET);
        assert!(at(59).unwrap().is_empty());
        // The Connected App rows are there at every version.
        let c = Catalog::new(&org, aud, Utc::now()).at_version(59);
        let ca = run(
            &c,
            "SELECT Id FROM SetupEntityAccess WHERE SetupEntityType = 'ConnectedApplication'",
            "59.0",
        );
        assert!(ca.is_ok());

        let e = q(
            demo::AUDITOR_USERNAME,
            "SELECT Id, DeveloperName FROM ExternalClientApplication",
        )
        .unwrap_err();
        assert_eq!(e.code, "INVALID_TYPE_FOR_OPERATION");
        assert_eq!(
            e.message,
            "entity type ExternalClientApplication does not support query"
        );
        // Without View Setup the object does not exist at all.
        let e = q(demo::USERNAME, "SELECT Id FROM ExternalClientApplication").unwrap_err();
        assert_eq!(e.code, "INVALID_TYPE");
        let e = q(demo::USERNAME, soql).unwrap_err();
        assert_eq!(e.code, "INVALID_TYPE");
    }
}
