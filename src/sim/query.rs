//! The bridge between `/query` and the SOQL engine ([`crate::sim::soql`]):
//! the engine evaluates, [`Catalog`] decides what the user may see.

use crate::sim::records::Catalog;
use crate::sim::soql::{self, ObjectInfo, QueryOutput, Relationship, SoqlError, Source};
use serde_json::{Map, Value};

/// Run `soql` as the catalog's user; `version` (e.g. "62.0") builds the
/// records' `attributes.url`.
pub fn run(catalog: &Catalog, soql: &str, version: &str) -> Result<QueryOutput, SoqlError> {
    let q = soql::parse(soql)?;
    soql::execute(&q, catalog, version, catalog.now.date_naive())
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

    #[test]
    fn in_like_not() {
        let r = q(
            demo::USERNAME,
            "SELECT Id FROM Account WHERE Name IN ('Globex', 'Initech') AND NOT Name LIKE 'init%'",
        )
        .unwrap();
        assert_eq!(r.len(), 1);
    }
}
