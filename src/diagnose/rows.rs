//! Record-level refusals: a check that returned fewer rows than its
//! `min_rows` (`TOO_FEW_ROWS`). A query never fails on sharing (Salesforce
//! leaves out the records the user cannot see), so the auditor runs the
//! same query: more rows there means sharing hides them from the
//! integration user; none there either means no data matches. Then the
//! object's org-wide default, the Setup Audit Trail entries that changed
//! its sharing, and a fix that exists in this org: re-create the sharing
//! rule, or a permission set that grants View All on the object. Sharing
//! rules are metadata, not SOQL: where to look is named instead. Pure: the
//! facts come from [`crate::audit`] ([`Facts::rows_seen`]). Without both
//! counts (the check's, the auditor's) it concludes nothing: `None`, and the
//! caller lists the checks to do by hand.

use super::{trail, Cause, Diagnosis};
use crate::audit::facts::{set_label, Facts, VIEW_ALL_GRANTORS};
use crate::checks::RowsShort;
use crate::salesforce::error::Failure;

/// The diagnosis of `failure`, a `TOO_FEW_ROWS` of the check whose query
/// is `soql`; `None` when the check's count is not in `failure` or the
/// auditor never ran the query (no count is no evidence of "0 rows").
pub fn diagnose(soql: &str, failure: &Failure, facts: &Facts) -> Option<Diagnosis> {
    let object = crate::audit::fields::soql_object(soql).unwrap_or_else(|| "the object".into());
    let RowsShort { want, got } = RowsShort::of(failure)?;
    let user = facts
        .target
        .username
        .as_deref()
        .or(facts.user.as_ref().map(|u| u.username.as_str()));
    let user = user.unwrap_or("the integration user");
    let mut evidence = vec![format!("query: {soql}")];
    let model = facts
        .sharing_model
        .iter()
        .find(|(o, _)| o.eq_ignore_ascii_case(&object));
    let model = model.map(|(_, m)| label(m));
    if let Some(m) = &model {
        evidence.push(format!("{object} org-wide default (internal): {m}"));
    }
    let view_all = view_all_sources(facts, &object);
    match &view_all {
        Ok(v) if v.is_empty() => evidence.push(format!("View All on {object}: granted by nothing")),
        Ok(v) => evidence.push(format!("View All on {object}: granted by {}", v.join(", "))),
        Err(why) => evidence.push(why.clone()),
    }
    let seen = facts
        .rows_seen
        .iter()
        .find(|(q, _)| q.as_str() == soql)
        .map(|(_, r)| r)?;
    let seen = match seen {
        Ok(n) => *n,
        Err(f) => {
            // A multi-line Salesforce error (the query, a caret, the row
            // and column) says what matters on its last line.
            let said = f.message.trim().lines().last().unwrap_or_default().trim();
            let why = if crate::salesforce::error::cannot_read_setup(&f.code) {
                format!("no Read on it: {}: {}", f.code, said.trim_end_matches('.'))
            } else {
                format!("{}: {}", f.code, said.trim_end_matches('.'))
            };
            return Some(Diagnosis {
                cause: Cause::AuditorCannotCount,
                explanation: format!(
                    "the auditor cannot count {object} rows ({why}), so records hidden by \
                     sharing and missing data cannot be told apart"
                ),
                changes: trail::sharing(&object, facts),
                fix: format!(
                    "give the auditor Read and View All on {object} (a permission set: Object \
                     Settings > {object} > Read, View All) to tell sharing from missing data, \
                     or run the query as an admin by hand; {}",
                    where_sharing(&object)
                ),
                evidence,
            });
        }
    };
    evidence.push(format!(
        "the auditor counts {seen} {}, {user} {got}, min_rows {want}",
        rows(seen)
    ));
    if seen <= got {
        let matching = match seen {
            0 => "no data matches the query".to_string(),
            n => format!("only {n} {} the query, below min_rows {want}", matches(n)),
        };
        return Some(Diagnosis {
            cause: Cause::NoMatchingData,
            explanation: format!(
                "the auditor sees {seen} {} too: {matching} (not an access problem){}",
                rows(seen),
                match &view_all {
                    Ok(_) => String::new(),
                    Err(_) => format!(
                        "; the auditor sees every record only with View All Data or View All on \
                         {object}, so records hidden from it too would not show"
                    ),
                }
            ),
            changes: Vec::new(),
            fix: format!(
                "load the missing {object} records, or correct the check's WHERE clause or \
                 min_rows in smoke.toml (a sandbox refreshed without data is a common cause)"
            ),
            evidence,
        });
    }
    let mut explanation = format!(
        "the auditor sees {seen} {}, '{user}' {got}: sharing hides them",
        rows(seen)
    );
    if let Some(m) = &model {
        explanation.push_str(&format!(
            " ({object}'s org-wide default is {m}: a user sees only the records it owns or that \
             a sharing rule, View All on {object} or View All Data opens to it)"
        ));
    }
    let changes = trail::sharing(&object, facts);
    let sets: Vec<String> = view_all.unwrap_or_default();
    let sets: Vec<&String> = sets.iter().filter(|s| set_label(s).is_some()).collect();
    let grant = match sets.as_slice() {
        [] => format!(
            "grant View All on {object} in the integration's permission set (Setup > Users > \
             Permission Sets > the set > Object Settings > {object} > View All)"
        ),
        sets => format!(
            "assign '{user}' a permission set of this org that grants View All on {object}: {}",
            sets.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let fix = format!(
        "re-create the sharing rule that opened {object} to '{user}' ({}), or {grant}",
        where_sharing(&object)
    );
    Some(Diagnosis {
        cause: Cause::RecordsHidden,
        explanation,
        changes,
        fix,
        evidence,
    })
}

/// Where an admin sees and edits the sharing of `object`.
fn where_sharing(object: &str) -> String {
    format!("Setup > Security > Sharing Settings > {object} Sharing Rules")
}

/// The sources granting View All on `object`, or why that is unknown.
fn view_all_sources(facts: &Facts, object: &str) -> Result<Vec<String>, String> {
    if let Some(why) = facts.unread(VIEW_ALL_GRANTORS) {
        return Err(why);
    }
    let found = facts
        .view_all_grantors
        .iter()
        .find(|(o, _)| o.eq_ignore_ascii_case(object));
    Ok(found.map(|(_, v)| v.clone()).unwrap_or_default())
}

fn matches(n: u64) -> &'static str {
    if n == 1 {
        "row matches"
    } else {
        "rows match"
    }
}

fn rows(n: u64) -> &'static str {
    if n == 1 {
        "row"
    } else {
        "rows"
    }
}

/// `InternalSharingModel` as Setup > Sharing Settings shows it.
fn label(model: &str) -> String {
    match model {
        "Private" => "Private",
        "Read" => "Public Read Only",
        "ReadWrite" => "Public Read/Write",
        "ReadWriteTransfer" => "Public Read/Write/Transfer",
        "FullAccess" => "Public Full Access",
        "ControlledByParent" => "Controlled by Parent",
        other => return other.to_string(),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::error::Origin;

    /// The failure the check itself makes (same constructor).
    fn too_few(want: u64, got: u64) -> Failure {
        RowsShort { want, got }.failure("")
    }

    const Q: &str = "SELECT Id FROM Opportunity WHERE IsClosed = false";

    fn facts(seen: Result<u64, Failure>) -> Facts {
        let mut f = Facts::default();
        f.target.username = Some("integration@acme.example".into());
        f.rows_seen.insert(Q.into(), seen);
        f.sharing_model
            .insert("Opportunity".into(), "Private".into());
        let grants = vec![
            "permission set 'Sales Ops Read All'".into(),
            "profile 'System Administrator'".into(),
        ];
        f.view_all_grantors.insert("Opportunity".into(), grants);
        f
    }

    #[test]
    fn more_rows_for_the_auditor_is_sharing_and_the_fix_names_a_set_that_exists() {
        let d = diagnose(Q, &too_few(1, 0), &facts(Ok(12))).expect("counted");
        assert_eq!(d.cause, Cause::RecordsHidden);
        assert!(d.explanation.starts_with("the auditor sees 12 rows, 'integration@acme.example' 0: sharing hides them (Opportunity's org-wide default is Private"), "{}", d.explanation);
        assert!(
            d.fix
                .contains("Setup > Security > Sharing Settings > Opportunity Sharing Rules"),
            "{}",
            d.fix
        );
        assert!(
            d.fix.contains("permission set 'Sales Ops Read All'"),
            "{}",
            d.fix
        );
        assert!(
            !d.fix.contains("System Administrator"),
            "a profile is no set to assign: {}",
            d.fix
        );
    }

    #[test]
    fn as_many_rows_for_the_auditor_is_no_data() {
        let d = diagnose(Q, &too_few(1, 0), &facts(Ok(0))).expect("counted");
        assert_eq!(d.cause, Cause::NoMatchingData);
        assert!(
            d.explanation
                .contains("no data matches the query (not an access problem)"),
            "{}",
            d.explanation
        );
    }

    /// The read-only auditor has no Read on the object: its count fails
    /// with Salesforce's multi-line caret error. The cause says the auditor
    /// cannot count (not "cannot read setup objects"), quotes only the
    /// error's last line, and keeps the trail entry that changed sharing.
    #[test]
    fn an_auditor_refused_the_query_cannot_tell() {
        let refused = Failure::new(
            Origin::Rest,
            "INVALID_TYPE",
            "\nSELECT COUNT() FROM Opportunity WHERE IsClosed = false\n                     ^\nERROR at Row:1:Column:22\nsObject type 'Opportunity' is not supported.",
        );
        let mut f = facts(Err(refused));
        let at = chrono::Utc::now();
        f.trail = Some(crate::audit::facts::Trail {
            since: at - chrono::Duration::days(1),
            entries: vec![crate::audit::facts::TrailEntry {
                action: "deletedSharingRule".into(),
                section: "Sharing Rules".into(),
                display: "Deleted Opportunity sharing rule Sales team sees open deals".into(),
                at,
                by_name: Some("Ada Admin".into()),
                by_username: Some("admin@acme.example".into()),
                delegate: None,
            }],
        });
        let d = diagnose(Q, &too_few(1, 0), &f).expect("answered");
        assert_eq!(d.cause, Cause::AuditorCannotCount);
        assert_eq!(
            d.explanation,
            "the auditor cannot count Opportunity rows (no Read on it: INVALID_TYPE: sObject \
             type 'Opportunity' is not supported), so records hidden by sharing and missing \
             data cannot be told apart"
        );
        assert!(!d.to_string().contains("setup objects"), "{d}");
        assert!(!d.explanation.contains('^'), "{}", d.explanation);
        assert!(
            d.fix
                .starts_with("give the auditor Read and View All on Opportunity"),
            "{}",
            d.fix
        );
        assert_eq!(d.changes.len(), 1, "{:?}", d.changes);
        assert!(
            d.changes[0].contains("Deleted Opportunity sharing rule Sales team sees open deals"),
            "{:?}",
            d.changes
        );
    }

    /// min_rows 10, 5 returned, 5 for the auditor too: the data is short,
    /// nothing hides it (a count read as 0 made this "hidden by sharing").
    #[test]
    fn some_rows_for_both_below_min_rows_is_missing_data_not_sharing() {
        let d = diagnose(Q, &too_few(10, 5), &facts(Ok(5))).expect("counted");
        assert_eq!(d.cause, Cause::NoMatchingData, "{}", d.explanation);
        assert!(
            d.explanation
                .contains("only 5 rows match the query, below min_rows 10"),
            "{}",
            d.explanation
        );
        let d = diagnose(Q, &too_few(10, 5), &facts(Ok(7))).expect("counted");
        assert_eq!(d.cause, Cause::RecordsHidden, "{}", d.explanation);
    }

    /// No count is no conclusion: the auditor never ran the query, or the
    /// failure is not the check's own.
    #[test]
    fn without_both_counts_there_is_no_diagnosis() {
        let mut unrun = facts(Ok(0));
        unrun.rows_seen.clear();
        assert!(diagnose(Q, &too_few(1, 0), &unrun).is_none());
        let foreign = Failure::new(
            Origin::Sfsmoke,
            crate::codes::TOO_FEW_ROWS,
            "the gate's message changed",
        );
        assert!(diagnose(Q, &foreign, &facts(Ok(0))).is_none());
    }

    #[test]
    fn the_counts_read_back_what_the_check_wrote() {
        let f = RowsShort { want: 10, got: 3 }.failure(" (2 pages)");
        assert_eq!(RowsShort::of(&f), Some(RowsShort { want: 10, got: 3 }));
        let f = RowsShort { want: 1, got: 0 }.failure("");
        assert_eq!(RowsShort::of(&f), Some(RowsShort { want: 1, got: 0 }));
        let other = Failure::new(
            Origin::Rest,
            "INVALID_TYPE",
            "expected at least 1 row, got 0",
        );
        assert_eq!(RowsShort::of(&other), None);
    }
}
